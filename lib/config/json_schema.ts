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
