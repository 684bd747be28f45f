// Conformance suite for the runbook template engine: each expected output or error is what Go's
// text/template (with hoop.dev's functions and metadata extraction) produces for the template.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  isRunbookFileName, parseRunbook, renderRunbook, TemplateError, type ParameterMetadata,
} from '../src/runbooks/template/index.js';

interface Case {
  name: string;
  template: string | Buffer;
  parameters?: Record<string, string>;
  output?: string | Buffer;
  /** A part of the TemplateError message (parse or render). */
  error?: string;
  /** The whole TemplateError message. */
  exactError?: string;
  metadata?: Record<string, ParameterMetadata>;
  envVars?: Record<string, string>;
}

/** Top-level actions must start with a field, so constructs under test run inside an if. */
const inside = (body: string): string => `{{if true}}${body}{{end}}`;
const text = (extra: Partial<ParameterMetadata> = {}): ParameterMetadata => ({ type: 'text', required: false, description: '', ...extra });
const base64 = (value: string): string => Buffer.from(value).toString('base64');

const customFunctions: Case[] = [
  { name: 'required passes a value through', template: '{{ .id | required "id is required" }}', parameters: { id: '42' }, output: '42' },
  {
    name: 'required fails with its message, in Go\'s error format',
    template: 'SELECT {{ .id | required "id is required" }}',
    parameters: { id: '' },
    exactError: 'template: :1:16: executing "" at <required "id is requ...>: error calling required: id is required',
  },
  {
    name: 'required shows its message as written, % included (Gatehouse)',
    template: '{{ .p | required "need 100%" }}',
    parameters: { p: '' },
    exactError: 'template: :1:8: executing "" at <required "need 100%">: error calling required: need 100%',
  },
  { name: 'default substitutes an empty value', template: 'name = {{ .name | default "Tony Stark" }}', parameters: { name: '' }, output: 'name = Tony Stark' },
  { name: 'default substitutes an omitted parameter', template: 'name = {{ .name | default "Tony Stark" }}', parameters: {}, output: 'name = Tony Stark' },
  { name: 'default keeps a given value', template: '{{ .name | default "Tony Stark" }}', parameters: { name: 'Peter' }, output: 'Peter' },
  {
    name: 'default after a no-op options (hoop test)',
    template: 'name = {{ .name | options "Peter Parker" | default "Tony Stark" }}',
    parameters: { name: '' },
    output: 'name = Tony Stark',
  },
  {
    name: 'pattern: a catastrophically backtracking match is stopped (Gatehouse)',
    template: '{{ .v | pattern "^(a+)+$" }}',
    parameters: { v: `${'a'.repeat(40)}b` },
    error: 'pattern ^(a+)+$ took longer than 100 ms to match',
  },
  { name: 'pattern accepts a match', template: 'wallet_id = {{ .wallet_id | pattern "^[0-9]+" }}', parameters: { wallet_id: '1234567890' }, output: 'wallet_id = 1234567890' },
  { name: 'pattern rejects a mismatch', template: '{{ .wallet_id | pattern "^[0-9]+" }}', parameters: { wallet_id: 'abc1234567890' }, error: "error calling pattern: pattern didn't match:^[0-9]+" },
  { name: 'pattern is an unanchored search', template: '{{ .v | pattern "[0-9]" }}', parameters: { v: 'abc1' }, output: 'abc1' },
  { name: 'pattern tests an empty value too', template: '{{ .v | pattern "." }}', parameters: { v: '' }, error: "pattern didn't match:." },
  { name: 'pattern with RE2 escapes and counts', template: String.raw`{{ .v | pattern "^\\d{3}-\\w+$" }}`, parameters: { v: '123-ab_c' }, output: '123-ab_c' },
  { name: 'pattern: RE2 \\s has no vertical tab', template: String.raw`{{ .v | pattern "^\\s$" }}`, parameters: { v: '\v' }, error: String.raw`pattern didn't match:^\s$` },
  { name: 'pattern: leading (?i)', template: '{{ .v | pattern "(?i)^abc$" }}', parameters: { v: 'ABC' }, output: 'ABC' },
  { name: 'pattern: \\A and \\z', template: String.raw`{{ .v | pattern "\\Aab\\z" }}`, parameters: { v: 'ab\n' }, error: "pattern didn't match" },
  { name: 'pattern: POSIX class', template: '{{ .v | pattern "^[[:alpha:]]+$" }}', parameters: { v: 'abcXYZ' }, output: 'abcXYZ' },
  { name: 'pattern: bad regexp', template: '{{ .v | pattern "(abc" }}', parameters: { v: 'x' }, error: 'error calling pattern: regexp error: error parsing regexp: missing closing ): `(abc`' },
  { name: 'pattern: lookahead is not RE2', template: '{{ .v | pattern "a(?=b)" }}', parameters: { v: 'ab' }, error: 'regexp error: error parsing regexp: invalid or unsupported Perl syntax: `(?=`' },
  { name: 'pattern: backreferences are not RE2', template: String.raw`{{ .v | pattern "(a)\\1" }}`, parameters: { v: 'aa' }, error: 'regexp error: error parsing regexp: invalid escape sequence: `\\1`' },
  { name: 'pattern: possessive repeat', template: '{{ .v | pattern "a**" }}', parameters: { v: 'a' }, error: 'invalid nested repetition operator: `**`' },
  { name: 'pattern: repeat without argument', template: '{{ .v | pattern "*a" }}', parameters: { v: 'a' }, error: 'missing argument to repetition operator: `*`' },
  {
    name: 'metadata-only functions return the value',
    template: '{{ .x | placeholder "p" | minlength "2" | maxlength "5" | description "d" | type "number" | order "3" }}',
    parameters: { x: '12' },
    output: '12',
    metadata: { x: text({ type: 'number', description: 'd', placeholder: 'p', minlength: '2', maxlength: '5', order: 3 }) },
  },
  { name: 'options returns the value (hoop test)', template: 'type = {{ .type | options "house" "car" "boat" }}', parameters: { type: 'car' }, output: 'type = car' },
  { name: 'options without arguments returns ""', template: `{{ .x }}${inside('[{{ options }}]')}`, parameters: { x: 'a' }, output: 'a[]' },
  {
    name: 'squote and dquote, also without a space after |',
    template: 'firstname = {{ .firstname |squote }}, lastname = {{ .lastname |dquote }}',
    parameters: { firstname: 'Tony', lastname: 'Stark' },
    output: `firstname = 'Tony', lastname = "Stark"`,
  },
  { name: 'squote does not escape', template: '{{ .n | squote }}', parameters: { n: "O'Brien" }, output: "'O'Brien'" },
  { name: 'quotechar', template: '{{ .n | quotechar "**" }}', parameters: { n: 'a' }, output: '**a**' },
  {
    name: 'encodeb64 and decodeb64 (hoop test)',
    template: 'urlenc = {{ .url | encodeb64 }}, urldec = {{ .url_enc | decodeb64 }}',
    parameters: { url: 'https://api.foo.tld', url_enc: 'aHR0cHM6Ly9hcGkuZm9vLnRsZA==' },
    output: 'urlenc = aHR0cHM6Ly9hcGkuZm9vLnRsZA==, urldec = https://api.foo.tld',
  },
  { name: 'decodeb64 skips newlines', template: '{{ .v | decodeb64 }}', parameters: { v: 'YW\nJj' }, output: 'abc' },
  { name: 'decodeb64: truncated input', template: '{{ .v | decodeb64 }}', parameters: { v: 'abcde' }, error: 'error calling decodeb64: illegal base64 data at input byte 4' },
  { name: 'decodeb64: missing padding', template: '{{ .v | decodeb64 }}', parameters: { v: 'YQ' }, error: 'illegal base64 data at input byte 0' },
  { name: 'decodeb64: bad character', template: '{{ .v | decodeb64 }}', parameters: { v: 'a$==' }, error: 'illegal base64 data at input byte 1' },
  { name: 'decodeb64: half padding', template: '{{ .v | decodeb64 }}', parameters: { v: 'YQ=' }, error: 'illegal base64 data at input byte 3' },
  { name: 'decodeb64: data after padding', template: '{{ .v | decodeb64 }}', parameters: { v: 'YQ==YQ==' }, error: 'illegal base64 data at input byte 4' },
  { name: 'decodeb64 may produce bytes that are not UTF-8', template: '{{ .v | decodeb64 }}', parameters: { v: '/0E=' }, output: Buffer.from([0xff, 0x41]) },
  {
    name: 'asenv records the variable and prints nothing',
    template: 'id={{ .wallet_id | asenv "WALLET_ID" }};',
    parameters: { wallet_id: '42' },
    output: 'id=;',
    envVars: { 'envvar:WALLET_ID': base64('42') },
    metadata: { wallet_id: text({ asenv: 'WALLET_ID' }) },
  },
  {
    name: 'asenv: the last recording of a key wins',
    template: '{{ .a | asenv "K" }}{{ .b | asenv "K" }}',
    parameters: { a: 'first', b: 'second' },
    envVars: { 'envvar:K': base64('second') },
  },
  { name: 'order with an unquoted number is a type error', template: '{{ .x | order 1 }}', parameters: { x: 'a' }, exactError: 'template: :1:14: executing "" at <1>: expected string; found 1' },
  { name: 'wrong number of arguments', template: '{{ .x | squote "a" }}', parameters: { x: 'b' }, error: 'wrong number of args for squote: want 1 got 2' },
  { name: 'a missing value piped into a function', template: inside('{{ .missing | squote }}'), error: 'at <squote>: invalid value; expected string' },
  { name: 'a non-string piped into a function', template: '{{ .x | len | squote }}', parameters: { x: 'abc' }, error: 'wrong type for value; expected string; got int' },
];

const builtins: Case[] = [
  { name: 'eq on strings', template: '{{if eq .env "prod"}}careful{{else}}ok{{end}}', parameters: { env: 'prod' }, output: 'careful' },
  { name: 'eq with several arguments is "any of"', template: inside('{{eq .x "a" "b" "c"}}'), parameters: { x: 'c' }, output: 'true' },
  { name: 'eq across types fails', template: inside('{{eq 1 "1"}}'), error: 'error calling eq: incompatible types for comparison' },
  { name: 'eq with a missing value is false', template: '{{if eq .missing "x"}}y{{else}}n{{end}}', output: 'n' },
  { name: 'ne', template: inside('{{ne 1 2}} {{ne "a" "a"}}'), output: 'true false' },
  { name: 'lt le gt ge', template: inside('{{lt 1 2}} {{le 2 2}} {{gt "b" "a"}} {{ge 1 2}} {{lt 1.5 2.5}}'), output: 'true true true false true' },
  { name: 'lt on a missing value', template: inside('{{lt .missing 1}}'), error: 'error calling lt: invalid type for comparison' },
  { name: 'lt on int and float', template: inside('{{lt 1 2.5}}'), error: 'incompatible types for comparison' },
  { name: 'and / or return the deciding operand', template: inside('{{and 1 0 2}}|{{or 0 "" "z"}}|{{and 1 2}}|{{or 0 ""}}'), output: '0|z|2|' },
  { name: 'or short-circuits', template: inside('{{or 1 (required "boom" "")}}'), output: '1' },
  { name: 'not', template: inside('{{not ""}} {{not "a"}} {{not 0}}'), output: 'true false true' },
  { name: 'len counts UTF-8 bytes and map entries', template: inside('{{len "héllo"}} {{len .}}'), parameters: { x: '1', y: '2' }, output: '6 2' },
  { name: 'len of an int', template: inside('{{len 3}}'), error: 'error calling len: len of type int' },
  { name: 'index into the parameters and a string', template: inside('[{{index . "x"}}][{{index . "nope"}}][{{index "abc" 1}}]'), parameters: { x: 'v' }, output: '[v][][98]' },
  { name: 'index out of range', template: inside('{{index "abc" 5}}'), error: 'error calling index: index out of range: 5' },
  { name: 'slice of a string', template: inside('{{slice "hello" 1 3}}'), output: 'el' },
  {
    name: 'printf verbs, widths and flags',
    template: inside('{{printf "%s|%d|%v|%q|%x|%5s|%-5s|%05d|%.2f|%t|%%|%+d|%X|%c|%8.3f|%-4d|" "a" 42 true "q" "hi" "ab" "cd" 7 3.14159 false 5 255 65 2.5 3}}'),
    output: 'a|42|true|"q"|6869|   ab|cd   |00007|3.14|false|%|+5|FF|A|   2.500|3   |',
  },
  { name: 'printf with a bad verb', template: inside('{{printf "%d" "x"}}'), output: '%!d(string=x)' },
  { name: 'printf with missing and extra operands', template: inside('{{printf "%s %s" "a"}}|{{printf "%s" "a" "b"}}'), output: 'a %!s(MISSING)|a%!(EXTRA string=b)' },
  { name: 'print and printf of a missing value', template: inside('{{printf "%s" .missing}}|{{print .missing}}'), output: '%!s(<nil>)|<nil>' },
  { name: 'printf gets the piped value last', template: '{{ .name | printf "hello %s" }}', parameters: { name: 'bob' }, output: 'hello bob' },
  {
    name: 'printf floats: shortest, exponent and half-even rounding',
    template: inside('{{printf "%v %g %e %.0f %.2f %v" 0.000012 123456789.0 1.0 2.5 0.125 100000.0}}'),
    output: '1.2e-05 1.23456789e+08 1.000000e+00 2 0.12 100000',
  },
  { name: 'printf %q of quotes and control characters', template: inside(String.raw`{{printf "%q" "say \"hi\"\n"}}`), output: String.raw`"say \"hi\"\n"` },
  { name: 'print adds spaces only between non-strings', template: inside('{{print 1 2 "a" 3 "b" "c"}}'), output: '1 2a3bc' },
  { name: 'println', template: inside('{{println 1 "a"}}'), output: '1 a\n' },
  {
    name: 'html, js and urlquery',
    template: inside(`{{html "<a href='x'>&"}} {{js "it's <b>"}} {{urlquery "a b&c"}}`),
    output: String.raw`&lt;a href=&#39;x&#39;&gt;&amp; it\'s \u003Cb\u003E a+b%26c`,
  },
];

const controlFlow: Case[] = [
  { name: 'if / else if / else', template: '{{if eq .x "a"}}A{{else if eq .x "b"}}B{{else}}C{{end}}', parameters: { x: 'b' }, output: 'B' },
  { name: 'truthiness', template: '{{if ""}}a{{else}}b{{end}}{{if "0"}}c{{end}}{{if 0}}d{{else}}e{{end}}{{if .}}f{{end}}', output: 'bcef', parameters: { k: 'v' } },
  { name: 'with sets dot', template: '{{with .x}}[{{.}}]{{else}}none{{end}}', parameters: { x: 'v' }, output: '[v]' },
  { name: 'with else', template: '{{with .x}}[{{.}}]{{else}}none{{end}}', parameters: { x: '' }, output: 'none' },
  { name: 'with / else with / else', template: '{{with .a}}A{{else with .b}}B={{.}}{{else}}C{{end}}', parameters: { a: '', b: 'bb' }, output: 'B=bb' },
  { name: 'range over an integer', template: '{{range 3}}{{.}}{{end}}', output: '012' },
  { name: 'range over zero runs else', template: '{{range $i := 0}}x{{else}}empty{{end}}', output: 'empty' },
  { name: 'range over the parameters in key order', template: '{{range $k, $v := .}}{{$k}}={{$v}};{{end}}', parameters: { b: '2', a: '1' }, output: 'a=1;b=2;' },
  {
    name: 'range with break and continue',
    template: '{{range $i := 10}}{{if eq $i 2}}{{continue}}{{end}}{{if eq $i 4}}{{break}}{{end}}{{$i}}{{end}}',
    output: '013',
  },
  { name: 'break outside range', template: inside('{{break}}'), exactError: 'template: :1: {{break}} outside {{range}}' },
  { name: 'range over a string', template: '{{range .x}}{{end}}', parameters: { x: 'abc' }, error: "range can't iterate over abc" },
  { name: 'range over a missing value runs else', template: '{{range .missing}}x{{else}}none{{end}}', output: 'none' },
  { name: 'range over an int with two variables', template: '{{range $i, $v := 3}}{{end}}', error: "can't use 3 to iterate over more than one variable" },
  { name: 'range iterations are capped', template: '{{range 100001}}{{end}}', error: 'range iterations exceed the limit of 100000' },
];

const variables: Case[] = [
  {
    name: 'assignment reaches the declaring scope',
    template: inside('{{$x := "a"}}{{if true}}{{$x = "b"}}{{$y := "c"}}{{end}}{{$x}}'),
    output: 'b',
  },
  { name: 'a variable ends with its block', template: inside('{{if true}}{{$y := 1}}{{end}}{{$y}}'), exactError: 'template: :1: undefined variable "$y"' },
  { name: '$ is the data', template: inside('{{$.x}}{{with "other"}}/{{.}}/{{$.x}}{{end}}'), parameters: { x: 'v' }, output: 'v/other/v' },
  { name: 'assigning an undeclared variable fails at run time', template: inside('{{$z = 1}}'), error: 'undefined variable: $z' },
  { name: 'range variables do not leak', template: inside('{{$v := "outer"}}{{range $v := 2}}{{end}}{{$v}}'), output: 'outer' },
  { name: 'a declaration prints nothing', template: inside('[{{$v := "x"}}]{{$v}}'), output: '[]x' },
];

const trimAndComments: Case[] = [
  { name: 'trim on both sides', template: 'a \n\t{{- .x -}}\n b', parameters: { x: '1' }, output: 'a1b' },
  { name: 'trim on the left', template: 'a  {{- .x }}  b', parameters: { x: '1' }, output: 'a1  b' },
  { name: 'trim on the right', template: 'a  {{ .x -}}  b', parameters: { x: '1' }, output: 'a  1b' },
  { name: 'a minus without a space is a number', template: inside('x {{-3}} y'), output: 'x -3 y' },
  { name: 'trim around if and end', template: '{{if true -}}\n  yes\n{{- end}}', output: 'yes' },
  { name: 'trim around else', template: '{{if false}}a{{- else -}}  b  {{- end}}', output: 'b' },
  { name: 'trim around range', template: '{{range $i := 3 -}}\n  {{ $i }}\n{{- end }}', output: '012' },
  { name: 'comment', template: 'a {{/* note */}} b', output: 'a  b' },
  { name: 'comment with trim markers', template: 'a  {{- /* note */ -}}  b', output: 'ab' },
  { name: 'a comment needs to touch the delimiters', template: 'a {{ /* note */ }} b', error: 'unexpected "/" in command' },
  { name: 'unclosed comment', template: 'a {{/* note', exactError: 'template: :1: unclosed comment' },
  { name: 'comment ends before the delimiter', template: '{{/* note */ x}}', error: 'comment ends before closing delimiter' },
];

const pipelines: Case[] = [
  { name: 'nested parenthesised pipeline', template: '{{ .x | printf "%s-%s" (printf "%d" 5) | squote }}', parameters: { x: 'a' }, output: "'5-a'" },
  { name: 'a literal cannot be a later pipeline stage', template: '{{ .x | "a" }}', error: 'template: :1: non executable command in pipeline stage 2' },
  { name: 'a literal takes no arguments', template: inside('{{ "a" "b" }}'), error: `can't give argument to non-function "a"` },
  { name: '.a.b on a string', template: '{{ .x.b }}', parameters: { x: 'a' }, exactError: `template: :1:5: executing "" at <.x.b>: can't evaluate field b in type string` },
  { name: 'a field with arguments', template: inside('{{ .x "y" }}'), parameters: { x: 'a' }, error: 'x is not a method but has arguments' },
  {
    name: 'one function per line (hoop example 1)',
    template: 'url = {{ .url \n\t| default "http://localhost:3000"\n\t| required "url is required"\n\t| description "The URL to fetch"\n\t| type "url"\n\t| asenv "FETCH_URL" }}',
    parameters: {},
    output: 'url = ',
    envVars: { 'envvar:FETCH_URL': base64('http://localhost:3000') },
    metadata: { url: { type: 'url', required: true, description: 'The URL to fetch', default: 'http://localhost:3000', asenv: 'FETCH_URL' } },
  },
  {
    name: 'options spread over lines (example 8)',
    template: 'aws logs tail {{ .logGroupName\n   | description "Log group"\n   | options "/aws/a"\n     "/aws/b"\n     "/aws/c"\n   | type "select" }}',
    parameters: { logGroupName: '/aws/b' },
    output: 'aws logs tail /aws/b',
    metadata: { logGroupName: text({ type: 'select', description: 'Log group', options: ['/aws/a', '/aws/b', '/aws/c'] }) },
  },
];

const literals: Case[] = [
  { name: 'string escapes', template: inside(String.raw`{{"a\tb\u00e9\x41\101"}}`), output: 'a\tbéAA' },
  { name: 'raw strings keep backslashes', template: inside('{{`a\\nb`}}'), output: 'a\\nb' },
  { name: 'character constants are ints', template: inside(String.raw`{{'a'}} {{'\n'}}`), output: '97 10' },
  { name: 'numbers print like Go', template: inside('{{1.5}} {{1e6}} {{100000.0}} {{0x1F}} {{1_000}} {{-0.5}} {{.5}}'), output: '1.5 1e+06 100000 31 1000 -0.5 0.5' },
  { name: 'booleans', template: inside('{{true}} {{false}}'), output: 'true false' },
  { name: 'nil is not a command', template: inside('{{nil}}'), error: 'nil is not a command' },
  { name: 'a bad number', template: inside('{{3x}}'), exactError: 'template: :1: bad number syntax: "3x"' },
  { name: 'a bad escape', template: inside(String.raw`{{"\q"}}`), exactError: 'template: :1: invalid syntax' },
  { name: 'an unterminated string', template: inside('{{"abc}}'), error: 'unterminated quoted string' },
];

const missingValues: Case[] = [
  { name: 'a missing key prints <no value>', template: inside('[{{ .missing }}]'), output: '[<no value>]' },
  { name: 'a field of a missing key is missing too', template: inside('[{{ .missing.b }}]'), output: '[<no value>]' },
  { name: 'missing inputs in order of appearance', template: '{{ .b }}{{ .a }}{{ .c | default "x" }}{{ .d }}', parameters: { zz: '1' }, exactError: 'the following inputs are missing [b a d]' },
  { name: 'a parameter only inside if is not required', template: '{{if .debug}}debug{{end}}', output: '' },
  {
    name: 'unknown parameters are ignored (hoop test)',
    template: "data = {\n\t'amount': {{ .amount00 }},\n\t'wallet_id': {{ .wallet_id }},\n\t'debug': {{ .DEBUG_me }}\n}",
    parameters: { amount00: '10.4', wallet_id: '59842', DEBUG_me: 'True', additional_key_causes_noop: 'foo' },
    output: "data = {\n\t'amount': 10.4,\n\t'wallet_id': 59842,\n\t'debug': True\n}",
  },
  { name: 'the missing key of the hoop test', template: 'WHERE id = {{ .id }}', parameters: { input_id: '' }, exactError: 'the following inputs are missing [id]' },
  { name: 'an empty value counts as given', template: '[{{ .x }}]', parameters: { x: '' }, output: '[]' },
  { name: 'an empty default counts as no default', template: '{{ .x | default "" }}', parameters: {}, error: 'the following inputs are missing [x]' },
];

const metadata: Case[] = [
  { name: 'a plain parameter (hoop test)', template: 'name = {{ .name }}', metadata: { name: text() } },
  {
    name: 'select with placeholder and options (example 2)',
    template: 'SELECT * FROM gender = {{ .gender\n\t| placeholder "the gender type"\n\t| options "male" "female" "unknown"\n\t| type "select" }}',
    metadata: { gender: text({ type: 'select', placeholder: 'the gender type', options: ['male', 'female', 'unknown'] }) },
  },
  { name: 'minlength and maxlength', template: 'name = {{ .name\n | minlength "2"\n | maxlength "50" }}', metadata: { name: text({ minlength: '2', maxlength: '50' }) } },
  { name: 'quirk: options split on spaces', template: '{{ .city | options "New York" "Paris" }}', metadata: { city: text({ options: ['New', 'York', 'Paris'] }) } },
  { name: 'quirk: " | " inside a string', template: '{{ .x | default "a | b" }}', metadata: { x: text({ default: 'a' }) } },
  { name: 'quirk: backquotes are kept', template: '{{ .x | description `the x` }}', metadata: { x: text({ description: '`the x`' }) } },
  { name: 'quirk: an escaped quote leaves its backslash', template: String.raw`{{ .x | description "say \"hi\"" }}`, metadata: { x: text({ description: 'say \\hi\\' }) } },
  { name: 'quirk: options without arguments', template: '{{ .x | options }}', metadata: { x: text({ options: [''] }) } },
  { name: 'quirk: default ""', template: '{{ .x | default "" }}', metadata: { x: text({ default: '' }) } },
  { name: 'the last occurrence wins', template: '{{ .id | required "r" | type "number" }} {{ .id }}', metadata: { id: text() } },
  { name: 'an unknown type stays text', template: '{{ .x | type "color" }}', metadata: { x: text() } },
  { name: 'order must be an integer', template: '{{ .a | order "2" }}{{ .b | order "x" }}', metadata: { a: text({ order: 2 }), b: text() } },
  { name: 'the name of .a.b is a', template: '{{ .a.b }}', metadata: { a: text() } },
  { name: 'a non-ASCII letter ends the name', template: '{{ .abñ }}', parameters: { ab: '1' }, output: '<no value>', metadata: { ab: text() } },
  { name: 'constructs inside if add no parameters', template: '{{if .debug}}{{ printf "%s" .x }}{{ $v := .y }}{{end}}', metadata: {} },
  { name: 'top level printf is rejected', template: '{{ printf "%s" .x }}', exactError: 'inconsistent findings, findings=0, val=[]' },
  { name: 'top level literal is rejected', template: '{{ "lit" }}', exactError: 'inconsistent findings, findings=0, val=[]' },
  { name: 'top level declaration is rejected', template: '{{ $v := .x }}', exactError: 'inconsistent findings, findings=0, val=[]' },
  { name: 'top level parentheses are rejected', template: '{{ (.x) }}', exactError: 'inconsistent findings, findings=0, val=[]' },
  { name: 'top level function call is rejected', template: '{{ required "m" .x }}', exactError: 'inconsistent findings, findings=0, val=[]' },
  {
    name: 'get-customer (example 8)',
    template: 'SELECT * FROM customers WHERE customerid = {{ .customer_id | description "Customer ID" | required "customer id is required" | type "number" | squote }} AND country = {{ .country | type "text" | description "Country" | default "US" | squote }}',
    parameters: { customer_id: '1040', country: 'UK' },
    output: "SELECT * FROM customers WHERE customerid = '1040' AND country = 'UK'",
    metadata: {
      customer_id: text({ type: 'number', required: true, description: 'Customer ID' }),
      country: text({ description: 'Country', default: 'US' }),
    },
  },
  {
    name: 'plan select with default (example 3)',
    template: 'plan = {{ .plan | default "pro" | options "basic" "pro" "enterprise" | type "select" }}',
    parameters: {},
    output: 'plan = pro',
    metadata: { plan: text({ type: 'select', default: 'pro', options: ['basic', 'pro', 'enterprise'] }) },
  },
];

const encoding: Case[] = [
  {
    name: 'bytes that are not UTF-8 pass through',
    template: Buffer.concat([Buffer.from('a'), Buffer.from([0xff, 0xfe]), Buffer.from('{{ .x }}'), Buffer.from([0xc3])]),
    parameters: { x: 'é' },
    output: Buffer.concat([Buffer.from('a'), Buffer.from([0xff, 0xfe]), Buffer.from('é'), Buffer.from([0xc3])]),
  },
  { name: 'a \\x escape makes a raw byte', template: inside(String.raw`{{"\xff"}}{{len "\xff"}}`), output: Buffer.concat([Buffer.from([0xff]), Buffer.from('1')]) },
  {
    name: 'a byte that is not UTF-8 inside an action',
    template: Buffer.concat([Buffer.from('{{ .x '), Buffer.from([0xff]), Buffer.from(' }}')]),
    error: "unrecognized character in action: U+FFFD '\uFFFD'",
  },
  {
    name: 'error columns count bytes',
    template: 'é {{ .x | required "r" }}',
    parameters: { x: '' },
    exactError: 'template: :1:11: executing "" at <required "r">: error calling required: r',
  },
  {
    name: 'error lines',
    template: '\n\n{{ .x | required "need x" }}',
    parameters: { x: '' },
    exactError: 'template: :3:8: executing "" at <required "need x">: error calling required: need x',
  },
];

const gatehouseChecks: Case[] = [
  { name: 'options are enforced', template: '{{ .plan | default "pro" | options "basic" "pro" "enterprise" }}', parameters: { plan: 'gold' }, exactError: 'invalid value for parameter plan: must be one of [basic pro enterprise]' },
  { name: 'an allowed option', template: '{{ .plan | options "basic" "pro" }}', parameters: { plan: 'pro' }, output: 'pro' },
  {
    name: 'an option with a space is accepted as written, though the metadata splits it',
    template: '{{ .city | options "New York" "Boston" }}',
    parameters: { city: 'New York' },
    output: 'New York',
    metadata: { city: text({ options: ['New', 'York', 'Boston'] }) },
  },
  { name: 'a word of a spaced option is not an option', template: '{{ .city | options "New York" "Boston" }}', parameters: { city: 'York' }, error: 'invalid value for parameter city' },
  { name: 'an empty value is not checked (the default applies)', template: '{{ .plan | default "pro" | options "basic" }}', parameters: { plan: '' }, output: 'pro' },
  { name: 'number type', template: '{{ .n | type "number" }}', parameters: { n: '12a' }, exactError: 'invalid value for parameter n: must be a number' },
  { name: 'a valid number', template: '{{ .n | type "number" }}', parameters: { n: '-3.5' }, output: '-3.5' },
  { name: 'email type', template: '{{ .e | type "email" }}', parameters: { e: 'bob' }, exactError: 'invalid value for parameter e: must be an email address' },
  { name: 'a valid email', template: '{{ .e | type "email" }}', parameters: { e: 'bob@example.com' }, output: 'bob@example.com' },
  { name: 'url type', template: '{{ .u | type "url" }}', parameters: { u: 'not a url' }, exactError: 'invalid value for parameter u: must be a URL' },
  { name: 'a URL without a host', template: '{{ .u | type "url" }}', parameters: { u: 'mailto:a@b.c' }, error: 'must be a URL' },
  { name: 'valid URLs', template: '{{ .u | type "url" }} {{ .v | type "url" }}', parameters: { u: 'https://x.y/z', v: 'postgres://db:5432/x' }, output: 'https://x.y/z postgres://db:5432/x' },
];

const parseErrors: Case[] = [
  { name: 'unexpected } (hoop test)', template: '{{ .mynput }', parameters: { mynput: 'val' }, exactError: 'template: :1: unexpected "}" in operand' },
  { name: 'undefined function', template: '{{ .x | foo }}', exactError: 'template: :1: function "foo" not defined' },
  { name: 'unclosed action across lines', template: 'line1\n{{ .x\n\n', exactError: 'template: :4: unclosed action started at :2' },
  { name: 'unexpected end', template: 'a{{end}}', exactError: 'template: :1: unexpected {{end}}' },
  { name: 'unexpected EOF', template: '{{if true}}x', exactError: 'template: :1: unexpected EOF' },
  { name: 'missing value', template: inside('{{}}'), exactError: 'template: :1: missing value for command' },
  { name: 'define is not supported', template: '{{define "x"}}{{end}}', error: '{{define}} is not supported' },
  { name: 'deep nesting is refused', template: `${'{{if true}}'.repeat(300)}${'{{end}}'.repeat(300)}`, error: 'max nesting depth of 256 exceeded' },
  { name: 'deep parentheses are refused', template: inside(`{{${'('.repeat(300)}1${')'.repeat(300)}}}`), error: 'max nesting depth of 256 exceeded' },
];

const suites: Record<string, Case[]> = {
  'custom functions': customFunctions,
  'built-in functions': builtins,
  'if, with, range': controlFlow,
  variables,
  'trim markers and comments': trimAndComments,
  pipelines,
  literals,
  'missing values and inputs': missingValues,
  'parameter metadata': metadata,
  'bytes and error positions': encoding,
  'Gatehouse parameter checks': gatehouseChecks,
  'parse errors': parseErrors,
};

function runCase(testCase: Case): void {
  const source = typeof testCase.template === 'string' ? Buffer.from(testCase.template) : testCase.template;
  let failure: unknown;
  try {
    const parsed = parseRunbook(source);
    if (testCase.metadata) assert.deepStrictEqual(parsed.parameters, testCase.metadata);
    const renders = testCase.output !== undefined || testCase.envVars !== undefined || testCase.error !== undefined || testCase.exactError !== undefined;
    if (renders) {
      const rendered = renderRunbook(parsed, testCase.parameters ?? {});
      if (testCase.output !== undefined) {
        assert.deepStrictEqual(rendered.script, Buffer.isBuffer(testCase.output) ? testCase.output : Buffer.from(testCase.output));
      }
      if (testCase.envVars) assert.deepStrictEqual(rendered.envVars, testCase.envVars);
    }
  } catch (error) {
    failure = error;
  }
  const expected = testCase.exactError ?? testCase.error;
  if (expected === undefined) {
    if (failure !== undefined) throw failure;
    return;
  }
  assert.ok(failure instanceof TemplateError, `expected a TemplateError containing ${JSON.stringify(expected)}, got ${String(failure)}`);
  if (testCase.exactError !== undefined) assert.equal(failure.message, testCase.exactError);
  else assert.ok(failure.message.includes(expected), `${JSON.stringify(failure.message)} should contain ${JSON.stringify(expected)}`);
}

for (const [suite, cases] of Object.entries(suites)) {
  describe(`runbook templates: ${suite}`, () => {
    for (const testCase of cases) it(testCase.name, () => runCase(testCase));
  });
}

describe('runbook templates: API', () => {
  it('has at least 80 conformance cases', () => {
    assert.ok(Object.values(suites).flat().length >= 80);
  });

  it('lists parameters in order of first appearance, with the last metadata', () => {
    const parsed = parseRunbook(Buffer.from('{{ .b }}{{ .a }}{{ .b | required "x" }}'));
    assert.deepStrictEqual(Object.keys(parsed.parameters), ['b', 'a']);
    assert.equal(parsed.parameters['b']?.required, true);
  });

  it('returns the parameters with the rendered script', () => {
    const parsed = parseRunbook(Buffer.from('{{ .x | type "number" }}'));
    assert.deepStrictEqual(renderRunbook(parsed, { x: '1' }).parameters, parsed.parameters);
  });

  it('treats a parameter named __proto__ as any other', () => {
    const parsed = parseRunbook(Buffer.from('{{ .__proto__ }}'));
    assert.deepStrictEqual(Object.keys(parsed.parameters), ['__proto__']);
    assert.throws(() => renderRunbook(parsed, {}), /the following inputs are missing \[__proto__\]/);
    assert.equal(renderRunbook(parsed, JSON.parse('{"__proto__": "v"}') as Record<string, string>).script.toString(), 'v');
  });

  it('caps the output size', () => {
    const parsed = parseRunbook(Buffer.from('{{ .big }}{{range 17}}{{$.big}}{{end}}'));
    assert.throws(() => renderRunbook(parsed, { big: 'x'.repeat(1 << 20) }), /rendered runbook exceeds 16 MiB/);
  });

  it('caps the size of the values a render computes', () => {
    const parsed = parseRunbook(Buffer.from('{{range 100}}{{$x := printf "%01000000d" 1}}{{end}}'));
    assert.throws(() => renderRunbook(parsed, {}), /values computed by the runbook exceed 64 MiB/);
  });

  it('renders an empty file', () => {
    const parsed = parseRunbook(Buffer.alloc(0));
    assert.deepStrictEqual(parsed.parameters, {});
    assert.equal(renderRunbook(parsed, {}).script.length, 0);
  });

  it('renders a 100-parameter runbook in well under a millisecond', () => {
    const lines = Array.from({ length: 100 }, (_, i) => `p${i} = {{ .p${i} | default "d" | description "parameter ${i}" | squote }}`);
    const parsed = parseRunbook(Buffer.from(lines.join('\n')));
    const parameters = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`p${i}`, `value ${i}`]));
    for (let i = 0; i < 50; i++) renderRunbook(parsed, parameters);
    const rounds = 500;
    const started = process.hrtime.bigint();
    for (let i = 0; i < rounds; i++) renderRunbook(parsed, parameters);
    const perRenderMs = Number(process.hrtime.bigint() - started) / 1e6 / rounds;
    assert.ok(perRenderMs < 0.5, `one render took ${perRenderMs.toFixed(3)} ms`);
  });
});

describe('isRunbookFileName', () => {
  const cases: [string, boolean][] = [
    ['team/finops/dba/charge.runbook.sql', true],
    ['team/finops/dba/charge.runb.sql', false],
    ['x.runbook.', true],
    ['a.runbook.b.c', true],
    ['runbook.sql', false],
    ['x.runbook.d/file.sql', false],
    ['X.RUNBOOK.sql', false],
  ];
  for (const [path, expected] of cases) {
    it(`${path} -> ${expected}`, () => assert.equal(isRunbookFileName(path), expected));
  }
});
