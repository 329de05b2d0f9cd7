import { glossarySections } from "@prescient/evaluator";
import { Command } from "commander";
import { expect, it } from "vitest";
import { registerReplay } from "./replay.js";

const words = (s: string): string => s.replace(/\s+/g, " ");

it("prescient replay --help explains every column of the report, in the words of the HTML report's glossary", () => {
  const program = new Command().exitOverride();
  registerReplay(program);
  const replay = program.commands.find((c) => c.name() === "replay");
  let out = "";
  replay?.configureOutput({ writeOut: (s) => (out += s) });
  replay?.outputHelp();
  expect(out).toContain("--html <file>");
  const text = words(out);
  for (const section of glossarySections) {
    expect(out).toContain(`${section.heading}:`);
    for (const t of section.terms) {
      expect(out).toMatch(new RegExp(`^  ${t.term.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}  `, "m"));
      // Wrapped over lines, the meaning is the glossary's word for word.
      expect(text).toContain(words(t.meaning));
    }
  }
  for (const column of ["hit rate", "stale served", "waste", "computes", "budget used", "latency saved"])
    expect(out).toMatch(new RegExp(`^  ${column}  `, "m"));
});
