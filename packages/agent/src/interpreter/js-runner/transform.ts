// Rewrites one JavaScript cell so it behaves like a REPL input inside a persistent global:
// top-level var/let/const/class/function/import bindings become global properties (so a later
// cell sees them and may declare them again), top-level await works (the cell runs as an async
// arrow), and the last expression statement's value is returned as { v }.
// Edits stay on the lines they replace, so stack line numbers match the user's code (with lineOffset -1).
import { parse, type Node, type Pattern, type Program, type Statement, type ModuleDeclaration } from "acorn";

export interface Transformed {
  /** Source of an expression evaluating to a Promise<{ v: unknown } | undefined>. */
  source: string;
  /** Names that become globals; the runner pre-creates them so strict cells can assign them. */
  globals: string[];
}

interface Edit {
  start: number;
  end: number;
  text: string;
}

export const IMPORT_HELPER = "__atollImport";

function parseCell(code: string): Program {
  const opts = { ecmaVersion: "latest", allowAwaitOutsideFunction: true, allowHashBang: true } as const;
  try {
    return parse(code, { ...opts, sourceType: "script" });
  } catch (scriptErr) {
    // Static import/export are only valid in module code; try that before giving up.
    try {
      return parse(code, { ...opts, sourceType: "module" });
    } catch {
      throw scriptErr;
    }
  }
}

function patternNames(p: Pattern | null | undefined, out: string[]): void {
  if (!p) return;
  switch (p.type) {
    case "Identifier": out.push(p.name); break;
    case "ObjectPattern":
      for (const prop of p.properties) patternNames(prop.type === "RestElement" ? prop.argument : (prop.value as Pattern), out);
      break;
    case "ArrayPattern": for (const el of p.elements) patternNames(el, out); break;
    case "RestElement": patternNames(p.argument, out); break;
    case "AssignmentPattern": patternNames(p.left, out); break;
    default: break;
  }
}

export function transformCell(code: string): Transformed {
  const ast = parseCell(code);
  const edits: Edit[] = [];
  const globals: string[] = [];
  const hoisted: string[] = [];
  const src = (n: { start: number; end: number }) => code.slice(n.start, n.end);
  const body = ast.body as (Statement | ModuleDeclaration)[];

  body.forEach((raw, i) => {
    let stmt: Node = raw;
    // `export const x = 1` → treat as its declaration.
    if ((stmt.type === "ExportNamedDeclaration" || stmt.type === "ExportDefaultDeclaration") && (stmt as any).declaration) {
      const decl = (stmt as any).declaration as Node;
      edits.push({ start: stmt.start, end: decl.start, text: "" });
      stmt = decl;
    }
    switch (stmt.type) {
      case "VariableDeclaration": {
        const v = stmt as any;
        const parts: string[] = [];
        for (const d of v.declarations) {
          patternNames(d.id, globals);
          if (d.init) parts.push(`(${src(d.id)} = ${src(d.init)})`);
          else if (v.kind !== "var") parts.push(`(${src(d.id)} = undefined)`);
        }
        edits.push({ start: stmt.start, end: stmt.end, text: parts.length ? `void (${parts.join(", ")});` : ";" });
        break;
      }
      case "FunctionDeclaration": {
        const name = (stmt as any).id.name as string;
        globals.push(name);
        hoisted.push(`globalThis[${JSON.stringify(name)}] = ${name};`);
        break;
      }
      case "ClassDeclaration": {
        const name = (stmt as any).id.name as string;
        globals.push(name);
        edits.push({ start: stmt.start, end: stmt.start, text: `${name} = ` });
        edits.push({ start: stmt.end, end: stmt.end, text: ";" });
        break;
      }
      case "ImportDeclaration": {
        const imp = stmt as any;
        const mod = `(await ${IMPORT_HELPER}(${JSON.stringify(imp.source.value)}))`;
        const parts: string[] = [];
        for (const s of imp.specifiers) {
          globals.push(s.local.name);
          if (s.type === "ImportDefaultSpecifier") parts.push(`${s.local.name} = ${mod}.default`);
          else if (s.type === "ImportNamespaceSpecifier") parts.push(`${s.local.name} = ${mod}`);
          else parts.push(`${s.local.name} = ${mod}[${JSON.stringify(s.imported.name ?? s.imported.value)}]`);
        }
        edits.push({ start: stmt.start, end: stmt.end, text: parts.length ? parts.join("; ") + ";" : `${mod};` });
        break;
      }
      case "ExpressionStatement": {
        if (i === body.length - 1 && !(stmt as any).directive) {
          // The statement's range keeps parentheses around the expression: `({ a: 1 })`.
          const end = code[stmt.end - 1] === ";" ? stmt.end - 1 : stmt.end;
          edits.push({ start: stmt.start, end: stmt.start, text: "return { v: (" });
          edits.push({ start: end, end: end, text: ") }" });
        }
        break;
      }
      default:
        break;
    }
  });

  edits.sort((a, b) => a.start - b.start || a.end - b.end);
  let out = "";
  let pos = 0;
  for (const e of edits) {
    out += code.slice(pos, e.start) + e.text;
    pos = e.end;
  }
  out += code.slice(pos);
  // A leading hashbang is not valid inside a function body.
  if (out.startsWith("#!")) out = "//" + out.slice(2);
  // The wrapper's opening sits on a line of its own: run with lineOffset -1, stack lines match the cell.
  return { source: `(async () => {${hoisted.join(" ")}\n${out}\n})()`, globals: [...new Set(globals)] };
}
