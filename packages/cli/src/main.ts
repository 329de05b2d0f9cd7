#!/usr/bin/env node
import { Command } from "commander";
import { registerCacheCommands } from "./commands/cache.js";
import { registerExecutorCommands } from "./commands/executor.js";
import { registerUp } from "./commands/up.js";

const program = new Command()
  .name("prescient")
  .description("prescient: ML predictions computed before anyone asks for them")
  .showHelpAfterError()
  .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2));

registerUp(program);
registerCacheCommands(program);
registerExecutorCommands(program);

await program.parseAsync(process.argv);
