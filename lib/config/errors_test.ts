import { assertEquals } from "../../tests/helpers/assert.ts";
import { compareIssues, type ConfigIssue, formatIssue } from "./errors.ts";

const base: ConfigIssue = {
  file: "ha.yaml",
  line: 12,
  col: 15,
  path: "vrrp_instances.VI_1.priority",
  message: "300 is out of range (expected an integer from 1 to 255)",
  severity: "error",
};

Deno.test("formatIssue prints FILE:LINE:COL: path: message", () => {
  assertEquals(
    formatIssue(base),
    "ha.yaml:12:15: vrrp_instances.VI_1.priority: 300 is out of range (expected an integer from 1 to 255)",
  );
  assertEquals(
    formatIssue({ ...base, severity: "warning", message: "x" }),
    "ha.yaml:12:15: warning: vrrp_instances.VI_1.priority: x",
  );
  assertEquals(formatIssue({ ...base, path: "", message: "empty" }), "ha.yaml:12:15: empty");
});

Deno.test("compareIssues orders by line then column", () => {
  const xs = [{ ...base, line: 3 }, { ...base, line: 1, col: 9 }, { ...base, line: 1, col: 2 }];
  assertEquals(xs.sort(compareIssues).map((i) => [i.line, i.col]), [[1, 2], [1, 9], [3, 15]]);
});
