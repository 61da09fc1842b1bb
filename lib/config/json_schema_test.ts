import { parse } from "yaml";
import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import { jsonSchema, markdownReference } from "./json_schema.ts";
import { CONFIG, type Spec } from "./schema.ts";

type Json = Record<string, unknown>;
const schema = jsonSchema() as Json;
const defs = schema.definitions as Record<string, Json>;

function deref(s: Json): Json {
  const ref = s.$ref;
  return typeof ref === "string" ? deref(defs[ref.replace("#/definitions/", "")]!) : s;
}

/** Every key path the validator's table accepts. */
function specPaths(spec: Spec, prefix: string, out: Set<string>): Set<string> {
  switch (spec.kind) {
    case "object":
      for (const [k, s] of Object.entries(spec.fields)) {
        out.add(`${prefix}.${k}`);
        specPaths(s, `${prefix}.${k}`, out);
      }
      break;
    case "tagged":
      for (const [tag, fields] of Object.entries(spec.variants)) {
        out.add(`${prefix}{${tag}}.${spec.tag}`);
        for (const [k, s] of Object.entries(fields)) {
          out.add(`${prefix}{${tag}}.${k}`);
          specPaths(s, `${prefix}{${tag}}.${k}`, out);
        }
      }
      break;
    case "list":
      specPaths(spec.of, `${prefix}[]`, out);
      break;
    case "map":
      specPaths(spec.of, `${prefix}.*`, out);
      break;
  }
  return out;
}

/** Every key path the JSON Schema describes. */
function schemaPaths(raw: Json, prefix: string, out: Set<string>): Set<string> {
  const s = deref(raw);
  for (const branch of [...(s.anyOf as Json[] ?? [])]) schemaPaths(branch, prefix, out);
  for (const branch of (s.oneOf as Json[] ?? [])) {
    const props = branch.properties as Record<string, Json>;
    const tag = (props.type as Json).const as string;
    for (const [k, v] of Object.entries(props)) {
      out.add(`${prefix}{${tag}}.${k}`);
      schemaPaths(v, `${prefix}{${tag}}.${k}`, out);
    }
  }
  if (s.oneOf === undefined && s.properties !== undefined) {
    for (const [k, v] of Object.entries(s.properties as Record<string, Json>)) {
      out.add(`${prefix}.${k}`);
      schemaPaths(v, `${prefix}.${k}`, out);
    }
  }
  if (typeof s.items === "object") schemaPaths(s.items as Json, `${prefix}[]`, out);
  if (typeof s.additionalProperties === "object") {
    schemaPaths(s.additionalProperties as Json, `${prefix}.*`, out);
  }
  return out;
}

/** A small JSON Schema validator for the subset jsonSchema() emits; returns failing paths. */
function validate(raw: Json, v: unknown, path: string, errs: string[]): string[] {
  const s = deref(raw);
  const typeOk = (t: string) =>
    t === "integer"
      ? Number.isInteger(v)
      : t === "array"
      ? Array.isArray(v)
      : t === "object"
      ? typeof v === "object" && v !== null && !Array.isArray(v)
      : (typeof v as string) === t;
  if (s.type !== undefined) {
    const types = Array.isArray(s.type) ? s.type as string[] : [s.type as string];
    if (!types.some(typeOk)) return [...errs, `${path}: type`];
  }
  if (s.enum !== undefined && !(s.enum as unknown[]).includes(v)) errs.push(`${path}: enum`);
  if (s.const !== undefined && s.const !== v) errs.push(`${path}: const`);
  if (typeof v === "number") {
    if (typeof s.minimum === "number" && v < s.minimum) errs.push(`${path}: minimum`);
    if (typeof s.maximum === "number" && v > s.maximum) errs.push(`${path}: maximum`);
  }
  if (typeof v === "string") {
    if (typeof s.pattern === "string" && !new RegExp(s.pattern).test(v)) {
      errs.push(`${path}: pattern`);
    }
    if (typeof s.minLength === "number" && v.length < s.minLength) errs.push(`${path}: minLength`);
    if (typeof s.maxLength === "number" && v.length > s.maxLength) errs.push(`${path}: maxLength`);
  }
  if (Array.isArray(v)) {
    if (typeof s.minItems === "number" && v.length < s.minItems) errs.push(`${path}: minItems`);
    if (typeof s.items === "object") {
      v.forEach((x, i) => validate(s.items as Json, x, `${path}[${i}]`, errs));
    }
  }
  if (typeof v === "object" && v !== null && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    const props = (s.properties ?? {}) as Record<string, Json>;
    for (const r of (s.required ?? []) as string[]) {
      if (!(r in o)) errs.push(`${path}.${r}: required`);
    }
    for (const [k, x] of Object.entries(o)) {
      if (props[k] !== undefined) validate(props[k], x, `${path}.${k}`, errs);
      else if (s.additionalProperties === false) errs.push(`${path}.${k}: additional`);
      else if (typeof s.additionalProperties === "object") {
        validate(s.additionalProperties as Json, x, `${path}.${k}`, errs);
      }
    }
  }
  for (const [kw, need] of [["anyOf", "some"], ["oneOf", "one"]] as const) {
    const branches = s[kw] as Json[] | undefined;
    if (branches === undefined) continue;
    const passing = branches.filter((b) => validate(b, v, path, []).length === 0).length;
    if (need === "some" ? passing === 0 : passing !== 1) errs.push(`${path}: ${kw}`);
  }
  return errs;
}

Deno.test("jsonSchema lists exactly the keys the validator's table accepts", () => {
  const fromSpec = specPaths(CONFIG, "", new Set());
  const fromSchema = schemaPaths(schema, "", new Set());
  assert(fromSpec.size > 200, `only ${fromSpec.size} key paths`);
  assertEquals([...fromSchema].sort(), [...fromSpec].sort());
});

Deno.test("jsonSchema is draft-07 with a description on every property", () => {
  assertEquals(schema.$schema, "http://json-schema.org/draft-07/schema#");
  const missing: string[] = [];
  const visit = (s: unknown, path: string) => {
    if (typeof s !== "object" || s === null) return;
    const props = (s as Json).properties as Record<string, Json> | undefined;
    for (const [k, v] of Object.entries(props ?? {})) {
      if (typeof v.description !== "string" && v.const === undefined) missing.push(`${path}.${k}`);
      visit(v, `${path}.${k}`);
    }
    for (const [k, v] of Object.entries(s as Json)) {
      if (k !== "properties") visit(v, `${path}/${k}`);
    }
  };
  visit(schema, "");
  assertEquals(missing, []);
});

Deno.test("the examples validate against the JSON Schema", async () => {
  for (const f of ["examples/ha.yaml", "examples/minimal.yaml"]) {
    const url = new URL(`../../${f}`, import.meta.url);
    assertEquals(validate(schema, parse(await Deno.readTextFile(url)), "", []), [], f);
  }
});

Deno.test("the JSON Schema rejects unknown keys, bad enums and wrong check keys", () => {
  const bad = (yaml: string) => validate(schema, parse(yaml), "", []);
  assert(bad("vrrp_instances: {VI_1: {interface: eth0, vrid: 1, priorty: 5}}").length > 0);
  assert(bad("virtual_servers: [{address: '10.0.0.1:80', scheduler: wlcx}]").length > 0);
  assert(
    bad(
      "virtual_servers: [{address: '10.0.0.1:80', real_servers: [{address: '10.0.0.2:80', " +
        "checks: [{type: TCP_CHECK, urls: [{path: /}]}]}]}]",
    ).length > 0,
  );
  assertEquals(bad("vrrp_instances: {VI_1: {interface: eth0, vrid: 1}}"), []);
});

Deno.test("docs/configuration.md carries the generated key reference, up to date", async () => {
  const url = new URL("../../docs/configuration.md", import.meta.url);
  let doc = await Deno.readTextFile(url);
  if (Deno.env.get("UPDATE_DOCS") === "1") {
    // UPDATE_DOCS=1 deno test -A lib/config/json_schema_test.ts && deno fmt docs/
    doc = doc.replace(
      /(<!-- BEGIN GENERATED[^>]*-->)[\s\S]*(<!-- END GENERATED -->)/,
      (_, begin: string, end: string) => `${begin}\n\n${markdownReference()}\n${end}`,
    );
    await Deno.writeTextFile(url, doc);
  }
  const m = /<!-- BEGIN GENERATED[^>]*-->([\s\S]*)<!-- END GENERATED -->/.exec(doc);
  assert(m !== null, "generated section markers missing");
  // deno fmt pads tables; compare without layout whitespace.
  const norm = (s: string) => s.replace(/\s+/g, "").replace(/-{3,}/g, "---");
  assertEquals(norm(m[1]!), norm(markdownReference()));
  for (const path of specPaths(CONFIG, "", new Set())) {
    const key = path.slice(path.lastIndexOf(".") + 1);
    assert(doc.includes(`\`${key}\``), `docs do not mention ${key}`);
  }
});
