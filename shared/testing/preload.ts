import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

// Tests read real model weights from AEX_MODEL_DIR. In this repository's CI and on a
// developer's checkout the folder beside the repo holds them; a user's machine pulls them.
if (!process.env.AEX_MODEL_DIR) {
  const beside = resolve(import.meta.dir, '../../../shared/models');
  if (existsSync(beside)) process.env.AEX_MODEL_DIR = beside;
}
process.env.LOG_LEVEL ??= 'silent';
