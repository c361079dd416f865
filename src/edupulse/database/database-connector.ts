import {
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';

const FIRST_RETRY_MS = 500;
const MAX_RETRY_MS = 10_000;

/**
 * Connects the DataSource and runs the migrations in the background, retrying with backoff.
 * The service therefore starts while PostgreSQL is away: liveness stays up, readiness reports
 * the database down, and Kubernetes does not crash-loop a pod that only waits for its database.
 */
@Injectable()
export class DatabaseConnector implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(DatabaseConnector.name);
  private stopped = false;
  private connecting: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  connected = false;

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  onApplicationBootstrap(): void {
    this.connecting = this.connect();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.connecting;
  }

  private async connect(): Promise<void> {
    for (let attempt = 1, delay = FIRST_RETRY_MS; !this.stopped; attempt++) {
      try {
        if (!this.dataSource.isInitialized) await this.dataSource.initialize();
        await this.dataSource.runMigrations({ transaction: 'each' });
        this.connected = true;
        if (attempt > 1) this.logger.log(`Connected to PostgreSQL after ${attempt} attempts`);
        return;
      } catch (error) {
        // The driver's messages name host and port, never the password.
        const reason = error instanceof Error ? error.message : String(error);
        this.logger.warn(
          `PostgreSQL not reachable (attempt ${attempt}): ${reason}; retrying in ${delay} ms`,
        );
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          setTimeout(resolve, delay).unref();
        });
        delay = Math.min(delay * 2, MAX_RETRY_MS);
      }
    }
  }
}
