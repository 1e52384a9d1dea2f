import type { EventBus } from '@aex/shared/ports/event-bus/event-bus';
import type { RunningConsumer } from '@aex/shared/ports/event-bus/run-consumer';
import type { Logger } from '@aex/shared/ports/log';
import type { Rpc } from '@aex/shared/ports/rpc/rpc';
import type { Database } from '../../db/database.ts';
import type { ImageRepository } from '../../db/image-repository.ts';
import { PublicImagesRepository } from '../../db/public-images-repository.ts';
import { ResultsRepository } from '../../db/results-repository.ts';
import { TaskModelsRepository } from '../../db/task-models-repository.ts';
import { TextSearchRepository } from '../../db/text-search-repository.ts';
import type { ImageQueryService } from '../image-queries.ts';
import { SearchService } from '../search.ts';
import { ActiveResults } from './active-results.ts';
import { ModelAdminService } from './model-admin.ts';
import { openResultVectors, type VectorStoreConfig } from './open-vectors.ts';
import { startResultConsumers } from './result-consumers.ts';
import { TextEmbedder } from './text-embedder.ts';

export interface ResultsConfig extends VectorStoreConfig {
  AEX_SEARCH_TIMEOUT: number;
  AEX_SEARCH_CACHE_SIZE: number;
}

/**
 * Everything core does with inference results, built over one database: the repositories, the
 * vector store (or why there is none), what the API reads (`active`), search, model
 * administration (activate, reindex) and the result consumers. mod.ts wires it in.
 */
export class ResultsModule {
  readonly results: ResultsRepository;
  readonly taskModels: TaskModelsRepository;
  readonly active: ActiveResults;

  private constructor(
    private readonly database: Database,
    private readonly config: ResultsConfig,
    private readonly vectors: Awaited<ReturnType<typeof openResultVectors>>,
  ) {
    this.results = new ResultsRepository(database.db);
    this.taskModels = new TaskModelsRepository(database.db);
    this.active = new ActiveResults(this.results, this.taskModels);
  }

  /** Opens the vector store the config names (logs once when there is none). */
  static async open(
    config: ResultsConfig,
    database: Database,
    log: Logger,
  ): Promise<ResultsModule> {
    const vectors = await openResultVectors(config, database, log.child({ component: 'vectors' }));
    return new ResultsModule(database, config, vectors);
  }

  search(deps: {
    images: ImageRepository;
    queries: ImageQueryService;
    rpc: Rpc | undefined;
  }): SearchService {
    const { vectors } = this.vectors;
    return new SearchService({
      vectors,
      vectorsMissing: vectors ? undefined : (this.vectors as { reason: string }).reason,
      embedder: new TextEmbedder(deps.rpc, {
        timeoutMs: this.config.AEX_SEARCH_TIMEOUT,
        cacheSize: this.config.AEX_SEARCH_CACHE_SIZE,
      }),
      active: this.active,
      taskModels: this.taskModels,
      images: deps.images,
      queries: deps.queries,
      text: new TextSearchRepository(this.database.db),
      publicIds: (limit) => new PublicImagesRepository(this.database.db).ids(limit),
    });
  }

  /** Activation and reindex; `onQueued` wakes the outbox relay. */
  models(onQueued: () => void): ModelAdminService {
    return new ModelAdminService({ taskModels: this.taskModels, onQueued });
  }

  /** Starts the embedding, faces and text consumers and the deleted image's vector removal. */
  startConsumers(bus: EventBus, log: Logger): Promise<RunningConsumer[]> {
    return startResultConsumers(bus, { results: this.results, vectors: this.vectors.vectors }, log);
  }

  async close(): Promise<void> {
    await this.vectors.close();
  }
}
