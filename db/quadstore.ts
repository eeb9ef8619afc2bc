import { and, asc, eq, type SQL } from "drizzle-orm";
import type { Queryable } from "./client.ts";
import { quads } from "./schema.ts";
import { quadRow } from "./quadRow.ts";

export { quadRow };
import { blank, iri, literal, type NamedNode, type Quad, type SubjectTerm, type Term } from "./terms.ts";

/**
 * A pattern over quads: each position is either bound to a term (or to a
 * graph IRI) or left open. `match({ predicate: RDF.type, object: X })`
 * finds every subject of type X.
 */
export interface QuadPattern {
  subject?: SubjectTerm;
  predicate?: NamedNode;
  object?: Term;
  graph?: string;
}

const kindOf = { NamedNode: 0, Literal: 1, BlankNode: 2 } as const;

type QuadRow = typeof quads.$inferSelect;
type QuadInsert = typeof quads.$inferInsert;

function subjectFrom(value: string): SubjectTerm {
  return value.startsWith("_:") ? blank(value.slice(2)) : iri(value);
}

export function fromRow(row: QuadRow): Quad {
  let object: Term;
  if (row.objectKind === 0) object = iri(row.object);
  else if (row.objectKind === 2) object = blank(row.object);
  else object = literal(row.object, row.datatype, row.language);
  return {
    subject: subjectFrom(row.subject),
    predicate: iri(row.predicate),
    object,
    graph: row.graph,
  };
}

function subjectKey(term: SubjectTerm): string {
  return term.termType === "BlankNode" ? `_:${term.value}` : term.value;
}

function conditions(pattern: QuadPattern): SQL | undefined {
  const parts: SQL[] = [];
  if (pattern.subject) parts.push(eq(quads.subject, subjectKey(pattern.subject)));
  if (pattern.predicate) parts.push(eq(quads.predicate, pattern.predicate.value));
  if (pattern.object) {
    const o = pattern.object;
    parts.push(eq(quads.object, o.value));
    parts.push(eq(quads.objectKind, kindOf[o.termType]));
    if (o.termType === "Literal") {
      parts.push(eq(quads.datatype, o.datatype));
      parts.push(eq(quads.language, o.language));
    }
  }
  if (pattern.graph !== undefined) parts.push(eq(quads.graph, pattern.graph));
  return parts.length ? and(...parts) : undefined;
}

/** Rows per multi-row INSERT (7 bound values each; SQLite allows 32766). */
const insertChunk = 500;

/** Pattern-matching reads and set-semantics writes over the quad table. */
export const quadStore = {
  async match(q: Queryable, pattern: QuadPattern = {}): Promise<Quad[]> {
    const rows = await q.select().from(quads).where(conditions(pattern))
      .orderBy(asc(quads.id));
    return rows.map(fromRow);
  },

  async count(q: Queryable, pattern: QuadPattern = {}): Promise<number> {
    return await q.$count(quads, conditions(pattern));
  },

  /** Adds quads; a quad already present is left as it is (RDF sets). */
  async insert(q: Queryable, items: readonly Quad[]): Promise<void> {
    for (let i = 0; i < items.length; i += insertChunk) {
      const rows = items.slice(i, i + insertChunk).map(quadRow);
      await q.insert(quads).values(rows).onConflictDoNothing();
    }
  },

  /** Removes every quad matching the pattern; returns how many. */
  async remove(q: Queryable, pattern: QuadPattern): Promise<number> {
    if (!pattern.subject && !pattern.graph && !pattern.predicate) {
      throw new Error("refusing to remove quads with an unbounded pattern");
    }
    const result = await q.delete(quads).where(conditions(pattern));
    return result.rowsAffected;
  },

  /** Replaces all objects of (subject, predicate) in a graph. */
  async set(
    q: Queryable,
    graph: string,
    subject: SubjectTerm,
    predicate: NamedNode,
    objects: Term | readonly Term[] | null,
  ): Promise<void> {
    await quadStore.remove(q, { graph, subject, predicate });
    const list = objects === null ? [] : Array.isArray(objects) ? objects : [objects as Term];
    await quadStore.insert(
      q,
      list.map((object) => ({ subject, predicate, object, graph })),
    );
  },
};

/** Groups the quads of one subject by predicate IRI. */
export class Description {
  readonly #byPredicate = new Map<string, Term[]>();
  constructor(readonly subject: SubjectTerm, items: readonly Quad[]) {
    for (const q of items) {
      const list = this.#byPredicate.get(q.predicate.value);
      if (list) list.push(q.object);
      else this.#byPredicate.set(q.predicate.value, [q.object]);
    }
  }
  get size(): number {
    return this.#byPredicate.size;
  }
  all(predicate: NamedNode): Term[] {
    return this.#byPredicate.get(predicate.value) ?? [];
  }
  one(predicate: NamedNode): Term | undefined {
    return this.all(predicate)[0];
  }
  string(predicate: NamedNode): string | undefined {
    return this.one(predicate)?.value;
  }
  number(predicate: NamedNode): number | undefined {
    const v = this.one(predicate)?.value;
    return v === undefined ? undefined : Number(v);
  }
  has(predicate: NamedNode, object?: Term): boolean {
    const list = this.all(predicate);
    if (!object) return list.length > 0;
    return list.some((t) => t.termType === object.termType && t.value === object.value);
  }
}

export async function describe(
  q: Queryable,
  subject: SubjectTerm,
  graph?: string,
): Promise<Description> {
  return new Description(subject, await quadStore.match(q, { subject, graph }));
}
