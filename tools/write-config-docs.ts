import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderConfigurationReference, renderEnvExample } from './config-reference.js';

const root = join(__dirname, '..', '..');
writeFileSync(join(root, 'docs', 'configuration.md'), renderConfigurationReference());
writeFileSync(join(root, '.env.example'), renderEnvExample());
console.log('wrote docs/configuration.md and .env.example');
