import type { Quad } from "./terms.ts";

/** A quad as the columns of the quads table (object kind: 0 IRI, 1 literal, 2 blank node). */
export interface QuadColumns {
  graph: string;
  subject: string;
  predicate: string;
  object: string;
  objectKind: number;
  datatype: string;
  language: string;
}

const kindOf = { NamedNode: 0, Literal: 1, BlankNode: 2 } as const;

export function quadRow(q: Quad): QuadColumns {
  return {
    graph: q.graph,
    subject: q.subject.termType === "BlankNode" ? `_:${q.subject.value}` : q.subject.value,
    predicate: q.predicate.value,
    object: q.object.value,
    objectKind: kindOf[q.object.termType],
    datatype: q.object.termType === "Literal" ? q.object.datatype : "",
    language: q.object.termType === "Literal" ? q.object.language : "",
  };
}
