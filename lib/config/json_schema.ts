/**
 * The JSON Schema (draft-07, which yaml-language-server understands best) of the configuration
 * file, generated from the same table as the validator (schema.ts).
 *
 * @module
 */
import { CONFIG, type Spec } from "./schema.ts";

type Json = Record<string, unknown>;

const DURATION_PATTERN = "^(([0-9]+(\\.[0-9]+)?(us|ms|s|m|h))+|[0-9]+(\\.[0-9]+)?)$";

/** The JSON Schema of a configuration file, for editors (`haagent schema`). */
export function jsonSchema(): object {
  const defs: Record<string, Json> = {};
  const root = toJson(CONFIG, defs, true);
  return {
    $schema: "http://json-schema.org/draft-07/schema#",
    $id: "https://haagent.invalid/schema/config.json",
    title: "haagent configuration",
    ...root,
    definitions: defs,
  };
}

function describe(spec: Spec): string {
  const parts = [spec.doc];
  if (spec.default !== undefined) {
    const d = spec.default;
    if (!(Array.isArray(d) && d.length === 0) && !(typeof d === "object" && !Array.isArray(d))) {
      parts.push(`Default: ${Array.isArray(d) ? d.join(", ") : String(d)}.`);
    }
  } else if (spec.defaultDoc !== undefined) parts.push(`Default: ${spec.defaultDoc}.`);
  if (spec.keepalived !== undefined) parts.push(`keepalived: ${spec.keepalived}.`);
  return parts.join(" ");
}

function scalarDefault(spec: Spec): Json {
  const d = spec.default;
  if (d === undefined || typeof d === "object") return Array.isArray(d) ? { default: d } : {};
  return { default: d };
}

function toJson(spec: Spec, defs: Record<string, Json>, inline = false): Json {
  const base: Json = { description: describe(spec), ...scalarDefault(spec) };
  switch (spec.kind) {
    case "string":
      return {
        ...base,
        type: "string",
        ...(spec.minLength !== undefined ? { minLength: spec.minLength } : {}),
        ...(spec.maxLength !== undefined ? { maxLength: spec.maxLength } : {}),
        ...(spec.pattern !== undefined ? { pattern: spec.pattern } : {}),
      };
    case "int":
      return { ...base, type: "integer", minimum: spec.min, maximum: spec.max };
    case "bool":
      return { ...base, type: "boolean" };
    case "duration":
      return { ...base, type: ["string", "number"], pattern: DURATION_PATTERN, minimum: 0 };
    case "enum": {
      // A YAML plain scalar such as 1.1 is a number; the loader accepts it as the text "1.1".
      const numeric = spec.values.filter((v) => typeof v === "string" && /^[0-9.]+$/.test(v))
        .map(Number);
      return { ...base, enum: [...spec.values, ...numeric] };
    }
    case "ip":
      return {
        ...base,
        type: "string",
        ...(spec.family !== undefined ? { format: spec.family } : {}),
        pattern: "^[0-9A-Fa-f:.]+$",
      };
    case "cidr":
      return { ...base, type: "string", pattern: "^[0-9A-Fa-f:.]+(/[0-9]{1,3})?$" };
    case "endpoint":
      return {
        ...base,
        type: "string",
        pattern: spec.portOptional === true
          ? "^(\\[[0-9A-Fa-f:.]+\\](:[0-9]{1,5})?|[0-9.]+(:[0-9]{1,5})?|[0-9A-Fa-f:]*:[0-9A-Fa-f:.]*)$"
          : "^(\\[[0-9A-Fa-f:.]+\\]|[0-9.]+):[0-9]{1,5}$",
      };
    case "iprange":
      return { ...base, type: "string", pattern: "^[0-9A-Fa-f:.]+-[0-9A-Fa-f:.]+$" };
    case "status":
      return {
        ...base,
        type: ["integer", "string"],
        minimum: 100,
        maximum: 599,
        pattern: "^[1-5][0-9]{2}(-[1-5][0-9]{2})?$",
      };
    case "list":
      return {
        ...base,
        type: "array",
        items: toJson(spec.of, defs),
        ...(spec.minItems !== undefined ? { minItems: spec.minItems } : {}),
      };
    case "map":
      return {
        description: describe(spec),
        type: "object",
        additionalProperties: toJson(spec.of, defs),
      };
    case "object": {
      const body: Json = {
        type: "object",
        properties: properties(spec.fields, defs),
        required: requiredKeys(spec.fields),
        additionalProperties: false,
      };
      if (inline) return { description: describe(spec), ...body };
      const full = spec.shorthand === undefined ? { description: spec.doc, ...body } : {
        description: spec.doc,
        anyOf: [toJson(spec.fields[spec.shorthand]!, defs), body],
      };
      defs[spec.title] = full;
      return { description: describe(spec), $ref: `#/definitions/${spec.title}` };
    }
    case "tagged": {
      const tags = Object.keys(spec.variants);
      defs[spec.title] = {
        description: spec.doc,
        type: "object",
        required: [spec.tag],
        properties: { [spec.tag]: { description: `Check type.`, enum: tags } },
        oneOf: tags.map((tag) => {
          const fields = spec.variants[tag]!;
          return {
            type: "object",
            properties: { [spec.tag]: { const: tag }, ...properties(fields, defs) },
            required: [spec.tag, ...requiredKeys(fields)],
            additionalProperties: false,
          };
        }),
      };
      return { description: describe(spec), $ref: `#/definitions/${spec.title}` };
    }
  }
}

function properties(fields: Record<string, Spec>, defs: Record<string, Json>): Json {
  return Object.fromEntries(Object.entries(fields).map(([k, s]) => [k, toJson(s, defs)]));
}

function requiredKeys(fields: Record<string, Spec>): string[] {
  return Object.entries(fields).filter(([, s]) => s.required === true).map(([k]) => k);
}

/** The key reference of docs/configuration.md, as Markdown tables generated from the schema. */
export function markdownReference(): string {
  const out: string[] = [];
  const sections: [string, Spec][] = [];
  const seen = new Set<string>();
  const collect = (spec: Spec, where: string) => {
    if (spec.kind === "object" || spec.kind === "tagged") {
      if (seen.has(spec.title)) return;
      seen.add(spec.title);
      sections.push([where, spec]);
      const fieldSets = spec.kind === "object" ? [spec.fields] : Object.values(spec.variants);
      for (const fields of fieldSets) {
        for (const [k, s] of Object.entries(fields)) collect(s, `${where}.${k}`);
      }
    } else if (spec.kind === "list" || spec.kind === "map") {
      collect(spec.of, spec.kind === "list" ? `${where}[]` : `${where}.NAME`);
    }
  };
  collect(CONFIG, "");
  for (const [where, spec] of sections) {
    if (spec.kind === "object") {
      out.push(`### ${spec.title}${where === "" ? "" : ` (\`${where.slice(1)}\`)`}`, "", spec.doc);
      if (spec.shorthand !== undefined) {
        out.push("", `A plain value stands for \`${spec.shorthand}\`.`);
      }
      out.push("", ...table(spec.fields));
    } else if (spec.kind === "tagged") {
      out.push(`### ${spec.title} (\`${where.slice(1)}\`)`, "", spec.doc);
      for (const [tag, fields] of Object.entries(spec.variants)) {
        out.push("", `#### type: ${tag}`, "", ...table(fields));
      }
    }
    out.push("");
  }
  return out.join("\n");
}

function typeWords(spec: Spec): string {
  switch (spec.kind) {
    case "string":
      return "text";
    case "int":
      return `integer ${spec.min}..${spec.max}`;
    case "bool":
      return "boolean";
    case "duration":
      return "duration";
    case "enum":
      return spec.values.map((v) => `\`${v}\``).join(" \\| ");
    case "ip":
      return `${spec.family ?? "IP"} address`;
    case "cidr":
      return "ADDR[/PREFIX]";
    case "endpoint":
      return spec.portOptional === true ? "ADDR[:PORT]" : "ADDR:PORT";
    case "iprange":
      return "address range";
    case "status":
      return "status code or range";
    case "list":
      return `list of ${typeWords(spec.of)}`;
    case "map":
      return `NAME: ${typeWords(spec.of)}`;
    case "object":
    case "tagged":
      return spec.title;
  }
}

function table(fields: Record<string, Spec>): string[] {
  const cell = (s: string) => s.replaceAll("|", "\\|").replaceAll("\n", " ");
  const rows = ["| key | type | default | keepalived | meaning |", "|---|---|---|---|---|"];
  for (const [k, s] of Object.entries(fields)) {
    const d = s.required === true
      ? "**required**"
      : s.default !== undefined
      ? (typeof s.default === "object"
        ? (Array.isArray(s.default) && s.default.length > 0
          ? `\`${s.default.join(", ")}\``
          : "empty")
        : `\`${String(s.default)}\``)
      : s.defaultDoc ?? "unset";
    rows.push(
      `| \`${k}\` | ${typeWords(s).replaceAll("|", "\\|").replaceAll("\\\\|", "\\|")} | ${
        cell(d)
      } | ${s.keepalived === undefined ? "" : cell(s.keepalived)} | ${cell(s.doc)} |`,
    );
  }
  return rows;
}
