// Reads a Parquet file written by acass with two independent readers — hyparquet (pure
// JavaScript) and parquet-wasm (Apache arrow-rs compiled to WebAssembly, decoded to Arrow with
// apache-arrow) — and compares every value with the same rows exported as JSON lines (the
// driver's JSON of the source rows). Rows are compared as multisets (parallel exports have no
// order across token ranges).
//
//   node check.mjs [--min-row-groups N] [--nested COL,...] [--dictionary LEAF,...]
//                  [--decimal LEAF=SCALE,...] [--decimal-text LEAF,...] FILE.parquet EXPECTED.jsonl [FILE2.parquet EXPECTED2.jsonl ...]
// --decimal: leaves that must be DECIMAL(38, SCALE); --decimal-text: decimal/varint leaves that must be text
// (with a note), each value's text exactly the source's (1.50 is not 1.5: the scale is kept).
// DECIMAL values are compared exactly as numbers (unscaled value and scale, trailing zeros
// stripped: the writer may store 1.5 as 1.50 in a scale-2 column); hyparquet is asked for the
// raw bytes of DECIMAL leaves, since it would turn them into (inexact) JavaScript numbers.
// Exit 0 when both readers agree with every value of every file; prints "N passed, 0 failed".
import { readFileSync } from 'node:fs'
import { parquetMetadata, parquetReadObjects } from 'hyparquet'
import * as wasm from 'parquet-wasm/node'
import { tableFromIPC } from 'apache-arrow'

const args = process.argv.slice(2)
let minRowGroups = 0
let groupColumns = []  // --nested a,b: columns that must be Parquet groups (LIST/MAP/struct), not JSON text
let dictionaryLeaves = []  // --dictionary a,l.list.element: leaves whose every chunk has a dictionary page
let decimalLeaves = []  // --decimal de=2,vi=0: [leaf, scale]
let decimalTextLeaves = []  // --decimal-text de,vi
for (;;) {
  if (args[0] === '--min-row-groups') { minRowGroups = Number(args[1]); args.splice(0, 2) }
  else if (args[0] === '--nested') { groupColumns = args[1].split(','); args.splice(0, 2) }
  else if (args[0] === '--dictionary') { dictionaryLeaves = args[1].split(','); args.splice(0, 2) }
  else if (args[0] === '--decimal') { decimalLeaves = args[1].split(',').map((x) => x.split('=')); args.splice(0, 2) }
  else if (args[0] === '--decimal-text') { decimalTextLeaves = args[1].split(','); args.splice(0, 2) }
  else break
}
if (args.length === 0 || args.length % 2) {
  console.error('usage: node check.mjs [--min-row-groups N] [--nested COL,...] FILE.parquet EXPECTED.jsonl [...]')
  process.exit(2)
}
let failures = 0
const fail = (msg) => { if (failures++ < 20) console.error(msg) }
let compared = 0

// ---- the expected rows: each value kept as its raw JSON text (no precision lost)
function splitJsonObject(line) {
  const out = []
  let i = 0
  const ws = () => { while (/\s/.test(line[i])) i++ }
  const str = () => {
    const start = i++
    while (line[i] !== '"') { if (line[i] === '\\') i++; i++ }
    i++
    return line.slice(start, i)
  }
  const value = () => {
    ws()
    const start = i
    if (line[i] === '"') { str(); return line.slice(start, i) }
    if (line[i] === '{' || line[i] === '[') {
      let depth = 0
      do {
        if (line[i] === '"') { str(); continue }
        if (line[i] === '{' || line[i] === '[') depth++
        if (line[i] === '}' || line[i] === ']') depth--
        i++
      } while (depth > 0)
      return line.slice(start, i)
    }
    while (i < line.length && !/[,}\s]/.test(line[i])) i++
    return line.slice(start, i)
  }
  ws(); i++ // {
  for (;;) {
    ws()
    if (line[i] === '}') break
    const key = JSON.parse(str())
    ws(); i++ // :
    out.push([key, value()])
    ws()
    if (line[i] === ',') i++
  }
  return out
}
// ---- canonical text of a value, per CQL type
const hex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')
const uuidText = (v) => {
  if (typeof v === 'string') return v.toLowerCase()
  const h = hex(v)
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
}
const unquote = (raw) => (raw.startsWith('"') ? JSON.parse(raw) : raw)
const floatText = (x, single) => {
  const n = single ? Math.fround(x) : x
  return Object.is(n, -0) ? '-0' : String(n)
}
const pad = (n, w) => String(n).padStart(w, '0')
const timeText = (nanos) => {
  let n = BigInt(nanos)
  const ns = n % 1000000000n; n /= 1000000000n
  const s = n % 60n; n /= 60n
  const m = n % 60n; const h = n / 60n
  return `${pad(h, 2)}:${pad(m, 2)}:${pad(s, 2)}.${pad(ns, 9)}`
}
const DAY_MS = 86400000
function dateText(v) {
  let ms
  if (v instanceof Date) ms = v.getTime()
  else if (typeof v === 'number' && Math.abs(v) < 1e9) ms = v * DAY_MS  // days
  else ms = Number(v)
  const d = new Date(ms)
  const y = d.getUTCFullYear()
  const year = y >= 0 && y <= 9999 ? pad(y, 4) : (y < 0 ? '-' : '+') + String(Math.abs(y))
  return `${year}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}`
}
function timestampMillis(v) {
  if (v instanceof Date) return v.getTime()
  return Number(v)
}
const normalizedJson = (text) => JSON.stringify(JSON.parse(text))
// A decimal as "<unscaled>e<-scale>" without trailing zeros: equal numbers, equal text.
function decimalKey(unscaled, scale) {
  let u = BigInt(unscaled)
  let s = BigInt(scale)
  if (u === 0n) return '0'
  while (u % 10n === 0n) { u /= 10n; s -= 1n }
  return `${u}e${-s}`
}
function decimalKeyOfText(text) {
  const m = /^(-?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text)
  if (!m) return `not a decimal: ${text}`
  const frac = m[3] ?? ''
  return decimalKey(BigInt(m[1] + ((m[2] + frac) || '0')), frac.length - Number(m[4] ?? 0))
}
const isDecimal = (e) => e?.converted_type === 'DECIMAL' || e?.logical_type?.type === 'DECIMAL'
// A DECIMAL value read back: raw two's complement bytes (hyparquet) or arrow's DecimalBigNum.
function decimalKeyOfValue(v, scale) {
  if (v instanceof Uint8Array) {
    let u = 0n
    for (const b of v) u = u * 256n + BigInt(b)
    if (v.length && v[0] & 0x80) u -= 1n << BigInt(8 * v.length)
    return decimalKey(u, scale)
  }
  return decimalKey(BigInt(String(v)), scale)
}

// The canonical text of a value read back (`kind`: the CQL type, or 'json' for the types
// written as JSON text).
function canonActual(kind, v, element) {
  if (v === null || v === undefined) return 'null'
  if (isDecimal(element)) return decimalKeyOfValue(v, element.scale ?? 0)
  switch (kind) {
    case 'int': case 'smallint': case 'tinyint': return String(Number(v))
    case 'bigint': case 'counter': return String(BigInt(v))
    case 'varint': case 'decimal': return decimalKeyOfText(typeof v === 'string' ? v : new TextDecoder().decode(v))
    case 'boolean': return String(v)
    case 'float': return floatText(Number(v), true)
    case 'double': return floatText(Number(v), false)
    case 'text': case 'ascii': case 'varchar': case 'inet': case 'duration':
      return typeof v === 'string' ? v : new TextDecoder().decode(v)
    case 'blob': case 'custom': return '0x' + hex(v)
    case 'uuid': case 'timeuuid': return uuidText(v)
    case 'timestamp': return String(timestampMillis(v))
    case 'date': return dateText(v)
    case 'time': return timeText(v)
    default: // JSON text (exact) or JSON parsed by the reader (structural)
      if (typeof v === 'string') return v
      return JSON.stringify(v, (k, x) => (typeof x === 'bigint' ? Number(x) : x))
  }
}
// The canonical text of an expected value (raw JSON text from the JSON lines export).
function canonExpected(kind, raw, structural) {
  if (raw === 'null') return 'null'
  switch (kind) {
    case 'int': case 'smallint': case 'tinyint': case 'bigint': case 'counter': case 'boolean':
      return raw
    case 'varint': case 'decimal': return decimalKeyOfText(unquote(raw))
    case 'float': return floatText(Number(unquote(raw)), true)
    case 'double': return floatText(Number(unquote(raw)), false)
    case 'timestamp': return String(Date.parse(unquote(raw)))
    case 'text': case 'ascii': case 'varchar': case 'inet': case 'duration': case 'blob': case 'custom':
    case 'uuid': case 'timeuuid': case 'date': case 'time':
      return unquote(raw)
    default:
      return structural ? normalizedJson(raw) : raw
  }
}
const kindOf = (cql) => (/^[a-z]+$/.test(cql) ? cql : 'json')

// ---- nested columns (lists, sets, maps, tuples, UDTs as Parquet groups): compared through
// the Parquet schema, leaf by leaf, with the leaf kinds of their Parquet types.
function schemaTree(schema) {
  let i = 1
  const node = () => {
    const element = schema[i++]
    const n = { name: element.name, element, children: [] }
    for (let c = 0; c < (element.num_children ?? 0); c++) n.children.push(node())
    return n
  }
  const top = []
  for (let c = 0; c < schema[0].num_children; c++) top.push(node())
  return top
}
const logicalOf = (e) => e.logical_type?.type
const isList = (n) => n.element.converted_type === 'LIST' || logicalOf(n.element) === 'LIST'
const isMap = (n) => n.element.converted_type === 'MAP' || logicalOf(n.element) === 'MAP'
function leafKind(e) {
  const lt = logicalOf(e)
  const ct = e.converted_type
  if (isDecimal(e)) return 'decimal'
  if (lt === 'STRING' || ct === 'UTF8') return 'text'
  if (lt === 'JSON' || ct === 'JSON') return 'json'
  if (lt === 'DATE' || ct === 'DATE') return 'date'
  if (lt === 'TIME') return 'time'
  if (lt === 'TIMESTAMP' || ct === 'TIMESTAMP_MILLIS') return 'timestamp'
  if (lt === 'UUID') return 'uuid'
  return { BOOLEAN: 'boolean', FLOAT: 'float', DOUBLE: 'double', BYTE_ARRAY: 'blob', INT32: 'int', INT64: 'bigint' }[e.type]
}
const numericKinds = new Set(['int', 'bigint', 'float', 'double', 'boolean'])
const byText = (a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : JSON.stringify(a) > JSON.stringify(b) ? 1 : 0)
function mapEntries(v) {
  if (v instanceof Map) return [...v]
  if (Array.isArray(v)) return v.map((e) => (Array.isArray(e) ? e : [e.key, e.value]))
  if (typeof v[Symbol.iterator] === 'function') return [...v]  // arrow MapRow: [key, value] pairs
  return Object.entries(v)
}
// The canonical form of a value read back: leaves as canonActual text, lists as arrays, maps as
// sorted [key, value] pairs, tuples/UDTs as arrays of their fields in schema order.
function canonNested(node, v) {
  if (v === null || v === undefined) return null
  if (node.children.length === 0) return canonActual(leafKind(node.element), v, node.element)
  if (isList(node)) return Array.from(v, (x) => canonNested(node.children[0].children[0], x))
  if (isMap(node)) {
    const [key, value] = node.children[0].children
    return mapEntries(v).map(([k, x]) => [canonNested(key, k), canonNested(value, x)]).sort(byText)
  }
  return node.children.map((c) => canonNested(c, v[c.name]))
}
// JSON text with every number, string, boolean and null kept as its raw text ({ raw }), objects
// as [key, value] pairs in order.
function parseRawJson(text) {
  let i = 0
  const ws = () => { while (/\s/.test(text[i])) i++ }
  const value = () => {
    ws()
    if (text[i] === '[') {
      i++
      const out = []
      ws()
      if (text[i] === ']') { i++; return out }
      for (;;) { out.push(value()); ws(); if (text[i++] === ']') return out }
    }
    if (text[i] === '{') {
      i++
      const out = { pairs: [] }
      ws()
      if (text[i] === '}') { i++; return out }
      for (;;) {
        const key = JSON.parse(value().raw)
        ws(); i++ // :
        out.pairs.push([key, value()])
        ws()
        if (text[i++] === '}') return out
      }
    }
    const start = i
    if (text[i] === '"') {
      i++
      while (text[i] !== '"') { if (text[i] === '\\') i++; i++ }
      i++
    } else {
      while (i < text.length && !/[,\]}\s]/.test(text[i])) i++
    }
    return { raw: text.slice(start, i) }
  }
  return value()
}
// The canonical form of an expected value (parsed by parseRawJson from the JSON lines export).
function canonExpectedNested(node, x) {
  if (x === undefined || x === null || x.raw === 'null') return null
  if (node.children.length === 0) return canonExpected(leafKind(node.element), x.raw, false)
  if (isList(node)) return x.map((e) => canonExpectedNested(node.children[0].children[0], e))
  if (isMap(node)) {
    const [key, value] = node.children[0].children
    // JSON object keys are strings: a number or boolean key is its text unquoted.
    const keyRaw = (k) => (numericKinds.has(leafKind(key.element)) ? k : JSON.stringify(k))
    return x.pairs.map(([k, v]) => [canonExpectedNested(key, { raw: keyRaw(k) }), canonExpectedNested(value, v)]).sort(byText)
  }
  if (Array.isArray(x)) return node.children.map((c, ci) => canonExpectedNested(c, x[ci]))  // tuple
  const fields = Object.fromEntries(x.pairs)
  return node.children.map((c) => canonExpectedNested(c, fields[c.name]))  // UDT
}

for (let a = 0; a < args.length; a += 2) {
const file = args[a]
const expectedFile = args[a + 1]
const expectedLines = readFileSync(expectedFile, 'utf8').split('\n').filter((l) => l.trim() !== '')
const expected = expectedLines.map(splitJsonObject)

// ---- the file
const buffer = readFileSync(file)
const arrayBuffer = buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength)
const metadata = parquetMetadata(arrayBuffer)
const cqlTypes = {}
for (const { key, value } of metadata.key_value_metadata ?? []) {
  if (key.startsWith('acass.cql_type.')) cqlTypes[key.slice('acass.cql_type.'.length)] = value
}
const tree = schemaTree(metadata.schema)
const columns = tree.map((n) => n.name)
const nested = tree.map((n) => n.children.length > 0)
for (const c of groupColumns) if (!nested[columns.indexOf(c)]) fail(`column ${c} is not a nested Parquet group`)
for (const leaf of dictionaryLeaves) {
  for (const g of metadata.row_groups) {
    const chunk = g.columns.find((c) => c.meta_data.path_in_schema.join('.') === leaf)
    if (!chunk || chunk.meta_data.dictionary_page_offset === undefined) fail(`leaf ${leaf}: a chunk without a dictionary page`)
  }
}
if (metadata.row_groups.length < minRowGroups) fail(`${metadata.row_groups.length} row groups, expected at least ${minRowGroups}`)
for (const c of columns) if (!cqlTypes[c]) fail(`column ${c}: no acass.cql_type metadata`)
// Statistics: null_count of every chunk must match the data (checked below per reader).
// (The chunk of a top-level leaf: leaves are numbered in schema order.)
const leafIndex = []
{
  let leaves = 0
  const count = (n) => (n.children.length === 0 ? 1 : n.children.reduce((a, c) => a + count(c), 0))
  for (const n of tree) { leafIndex.push(leaves); leaves += count(n) }
}
const nullCounts = columns.map((_, ci) => metadata.row_groups.reduce((n, g) => n + Number(g.columns[leafIndex[ci]].meta_data.statistics?.null_count ?? NaN), 0))

// Leaves by dotted path ("lde.list.element"), for the DECIMAL/text assertions.
const leafElements = {}
const walk = (n, prefix) => {
  const path = prefix ? `${prefix}.${n.name}` : n.name
  if (n.children.length === 0) leafElements[path] = n.element
  for (const c of n.children) walk(c, path)
}
for (const n of tree) walk(n, '')
for (const [leaf, scale] of decimalLeaves) {
  const e = leafElements[leaf]
  if (!isDecimal(e) || e.type !== 'BYTE_ARRAY' || e.scale !== Number(scale) || e.precision !== 38 ||
      e.logical_type?.scale !== Number(scale) || e.logical_type?.precision !== 38)
    fail(`leaf ${leaf}: not BYTE_ARRAY DECIMAL(38, ${scale}): ${JSON.stringify(e)}`)
}
for (const leaf of decimalTextLeaves) {
  const e = leafElements[leaf]
  if (e?.logical_type?.type !== 'STRING' || isDecimal(e)) fail(`leaf ${leaf}: not text: ${JSON.stringify(e)}`)
  if (!(metadata.key_value_metadata ?? []).some(({ key }) => key === `acass.note.${leaf}`)) fail(`leaf ${leaf}: no note`)
}
// hyparquet: DECIMAL leaves read as their raw bytes (the annotation hidden from its converter).
const rawDecimals = structuredClone(metadata)
for (const e of rawDecimals.schema) if (isDecimal(e)) { delete e.converted_type; delete e.logical_type }
const hyRows = await parquetReadObjects({ file: arrayBuffer, metadata: rawDecimals, utf8: false })
const wasmTable = tableFromIPC(wasm.readParquet(new Uint8Array(buffer)).intoIPCStream())
const wasmRows = []
for (let r = 0; r < wasmTable.numRows; r++) {
  const row = {}
  for (const c of columns) row[c] = wasmTable.getChild(c).get(r)
  wasmRows.push(row)
}

// Top-level decimal/varint leaves written as text: compared as text, exactly.
const exactText = columns.map((c) => decimalTextLeaves.includes(c))
const textOf = (v) => (typeof v === 'string' ? v : new TextDecoder().decode(v))
function check(readerName, rows) {
  if (rows.length !== expected.length) fail(`${readerName}: ${rows.length} rows, expected ${expected.length}`)
  const kinds = columns.map((c) => kindOf(cqlTypes[c]))
  // JSON columns: hyparquet parses JSON-annotated text, arrow-rs keeps it.
  const structural = columns.map((c) => {
    const sample = rows.find((r) => r[c] !== null && r[c] !== undefined)
    return sample !== undefined && typeof sample[c] !== 'string'
  })
  const nulls = columns.map(() => 0)
  const actualCanon = rows.map((row) => JSON.stringify(columns.map((c, ci) => {
    if (row[c] === null || row[c] === undefined) nulls[ci]++
    if (nested[ci]) return JSON.stringify(canonNested(tree[ci], row[c]))
    if (exactText[ci] && row[c] !== null && row[c] !== undefined) return textOf(row[c])
    return canonActual(kinds[ci], row[c], tree[ci].element)
  })))
  const expectedCanon = expected.map((fields) => {
    const map = Object.fromEntries(fields)
    return JSON.stringify(columns.map((c, ci) => {
      if (map[c] === undefined) return 'missing'
      if (nested[ci]) return JSON.stringify(canonExpectedNested(tree[ci], parseRawJson(map[c])))
      if (exactText[ci] && map[c] !== 'null') return unquote(map[c])
      return canonExpected(kinds[ci], map[c], structural[ci])
    }))
  })
  actualCanon.sort(); expectedCanon.sort()
  let mismatches = 0
  for (let i = 0; i < Math.max(actualCanon.length, expectedCanon.length); i++) {
    if (actualCanon[i] !== expectedCanon[i] && mismatches++ < 3)
      fail(`${readerName}: row mismatch\n  read:     ${actualCanon[i]}\n  expected: ${expectedCanon[i]}`)
  }
  if (mismatches) fail(`${readerName}: ${mismatches} rows differ`)
  columns.forEach((c, ci) => {
    if (nested[ci]) return  // a nested column's leaves count nulls at their own level
    if (nulls[ci] !== nullCounts[ci]) fail(`${readerName}: column ${c} has ${nulls[ci]} nulls, statistics say ${nullCounts[ci]}`)
  })
  return rows.length * columns.length
}

compared += check('hyparquet', hyRows)
compared += check('parquet-wasm', wasmRows)
console.log(`${file}: ${expected.length} rows x ${columns.length} columns, ${metadata.row_groups.length} row groups`)
}
console.log(failures === 0 ? `${compared} passed, 0 failed` : `0 passed, ${failures} failed`)
process.exit(failures === 0 ? 0 : 1)
