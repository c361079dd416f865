import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { MIGRATIONS } from './index.js';

/** For the TypeORM CLI (`npm run migration:run`): the database named by DATABASE_URL. */
export default new DataSource({
  type: 'postgres',
  url: process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres',
  migrations: MIGRATIONS,
});
