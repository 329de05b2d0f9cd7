import { Command } from "commander";
import { exitQuietlyOnBrokenPipe } from "./broken-pipe.js";
import { registerAnalyzerCommands } from "./commands/analyzer.js";
import { registerCacheCommands } from "./commands/cache.js";
import { registerExecutorCommands } from "./commands/executor.js";
import { registerPrecomputerCommands } from "./commands/precomputer.js";
import { registerReplay } from "./commands/replay.js";
import { registerUp } from "./commands/up.js";
import { registerWorkload } from "./commands/workload.js";

exitQuietlyOnBrokenPipe();

const program = new Command()
  .name("prescient")
  .description("prescient: ML predictions computed before anyone asks for them")
  .showHelpAfterError()
  .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2));

registerUp(program);
registerCacheCommands(program);
registerPrecomputerCommands(program);
registerAnalyzerCommands(program);
registerReplay(program);
registerWorkload(program);
registerExecutorCommands(program);

await program.parseAsync(process.argv);
