/** RDF terms and quads, shaped after the RDF/JS data model. */

export interface NamedNode {
  readonly termType: "NamedNode";
  readonly value: string;
}
export interface BlankNode {
  readonly termType: "BlankNode";
  readonly value: string;
}
export interface Literal {
  readonly termType: "Literal";
  readonly value: string;
  /** Empty for a plain string (xsd:string) or a language-tagged string. */
  readonly datatype: string;
  readonly language: string;
}
export type Term = NamedNode | BlankNode | Literal;
export type SubjectTerm = NamedNode | BlankNode;

export interface Quad {
  readonly subject: SubjectTerm;
  readonly predicate: NamedNode;
  readonly object: Term;
  /** The named graph's IRI, or "" for the default graph. */
  readonly graph: string;
}

export const XSD = "http://www.w3.org/2001/XMLSchema#";
export const XSD_STRING = `${XSD}string`;
export const XSD_INTEGER = `${XSD}integer`;
export const XSD_BOOLEAN = `${XSD}boolean`;
export const XSD_DATETIME = `${XSD}dateTime`;
export const RDF_LANGSTRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString";

export function iri(value: string): NamedNode {
  return { termType: "NamedNode", value };
}

export function blank(value: string): BlankNode {
  return { termType: "BlankNode", value };
}

export function literal(
  value: string,
  datatype = "",
  language = "",
): Literal {
  // xsd:string is the default datatype: store it as "" so equal literals
  // compare equal however they were written.
  return {
    termType: "Literal",
    value,
    datatype: datatype === XSD_STRING ? "" : datatype,
    language: language.toLowerCase(),
  };
}

export function integer(value: number): Literal {
  if (!Number.isSafeInteger(value)) throw new RangeError(`not an integer: ${value}`);
  return literal(String(value), XSD_INTEGER);
}

export function boolean(value: boolean): Literal {
  return literal(String(value), XSD_BOOLEAN);
}

export function dateTime(value: Date | string): Literal {
  const text = typeof value === "string" ? value : value.toISOString();
  return literal(text, XSD_DATETIME);
}

export function quad(
  subject: SubjectTerm,
  predicate: NamedNode,
  object: Term,
  graph = "",
): Quad {
  return { subject, predicate, object, graph };
}

export function termEquals(a: Term, b: Term): boolean {
  if (a.termType !== b.termType || a.value !== b.value) return false;
  if (a.termType === "Literal" && b.termType === "Literal") {
    return a.datatype === b.datatype && a.language === b.language;
  }
  return true;
}
