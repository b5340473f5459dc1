#!/usr/bin/env python3
"""Generate src/ops/winograd-transforms.ts: the Winograd F(m x m, r x r) transforms, exactly.

Winograd's minimal filtering (Lavin & Gray 2016) computes an m x m block of a 'same' r x r
correlation from an a x a input patch (a = m + r - 1) as

    Y = A^T [ (G g G^T) (*) (B^T d B) ] A

with (*) elementwise. The matrices come from Toom-Cook on a - 1 finite points plus infinity:
  A^T (m x a)  evaluates a degree m-1 polynomial at the points (infinity: its leading coefficient)
  G   (a x r)  evaluates a degree r-1 polynomial the same way
  B^T (a x a)  the transpose of the interpolation matrix, the inverse of the a x a evaluation
By transposition (Winograd's principle) the product computes the correlation. Each row i of
B^T is scaled to integers and G's row i divided by the same factor, which leaves the product
unchanged, so the input transform multiplies only by small integers.

Everything is computed with Python Fractions and checked here (for random integer data the
formula must equal the direct correlation exactly) before any code is written. The emitted
TypeScript is straight-line code per 1-D pass, which is what makes the transforms cheap in
plain JavaScript; the weight transform (G g G^T, done once at model load) is a plain matrix
product over the emitted G.

Usage: /usr/bin/python3 tools/gen_winograd.py   (rewrites src/ops/winograd-transforms.ts)
"""
from fractions import Fraction
from math import lcm
from pathlib import Path
import random

# (m, r) variants emitted. a = m + r - 1 picks the point set below.
VARIANTS = [(4, 3), (6, 3), (8, 3), (10, 3), (2, 5), (4, 5), (6, 5), (8, 5)]
# The usual well-conditioned points: small integers, then halves, then +-3 (wincnn's choices),
# then +-3/2 for a = 12. That choice, measured in float64 on random data against the direct
# correlation (F(8x8, 5x5), 32 channels): 1.3e-11 relative error. +-1/3 gave 3.7e-13 but makes
# B^T's integer rows reach 1.2e7, so the int8 path's input transform (255 x row sum^2) would
# pass 2^53 and stop being exact; +-4 gave 1.5e-10. All far below float32's 6e-8.
POINTS = {
    6: [0, 1, -1, 2, -2],
    8: [0, 1, -1, 2, -2, Fraction(1, 2), Fraction(-1, 2)],
    10: [0, 1, -1, 2, -2, Fraction(1, 2), Fraction(-1, 2), 3, -3],
    12: [0, 1, -1, 2, -2, Fraction(1, 2), Fraction(-1, 2), 3, -3, Fraction(3, 2), Fraction(-3, 2)],
}

OUT = Path(__file__).resolve().parent.parent / 'src' / 'ops' / 'winograd-transforms.ts'


def evaluation(points, cols):
    """Rows [p^0 .. p^(cols-1)] per finite point, then [0 .. 0 1] for infinity."""
    rows = [[Fraction(p) ** j for j in range(cols)] for p in points]
    rows.append([Fraction(0)] * (cols - 1) + [Fraction(1)])
    return rows


def inverse(mat):
    n = len(mat)
    aug = [row[:] + [Fraction(int(i == j)) for j in range(n)] for i, row in enumerate(mat)]
    for col in range(n):
        pivot = next(r for r in range(col, n) if aug[r][col] != 0)
        aug[col], aug[pivot] = aug[pivot], aug[col]
        inv = 1 / aug[col][col]
        aug[col] = [v * inv for v in aug[col]]
        for r in range(n):
            if r != col and aug[r][col] != 0:
                f = aug[r][col]
                aug[r] = [a - f * b for a, b in zip(aug[r], aug[col])]
    return [row[n:] for row in aug]


def transpose(mat):
    return [list(col) for col in zip(*mat)]


def matrices(m, r):
    a = m + r - 1
    points = POINTS[a]
    assert len(points) == a - 1
    at = transpose(evaluation(points, m))  # m x a
    g = evaluation(points, r)  # a x r
    bt = transpose(inverse(evaluation(points, a)))  # a x a
    for i in range(a):
        scale = lcm(*[v.denominator for v in bt[i]])
        bt[i] = [v * scale for v in bt[i]]
        g[i] = [v / scale for v in g[i]]
    return at, g, bt


def check(m, r, at, g, bt, trials=50):
    """The formula equals the direct 1-D and 2-D correlation exactly on random integers."""
    a = m + r - 1
    rnd = random.Random(m * 100 + r)
    for _ in range(trials):
        d = [[Fraction(rnd.randint(-128, 127)) for _ in range(a)] for _ in range(a)]
        w = [[Fraction(rnd.randint(-128, 127)) for _ in range(r)] for _ in range(r)]
        u = [[sum(g[i][k] * w[k][l] * g[j][l] for k in range(r) for l in range(r)) for j in range(a)] for i in range(a)]
        v = [[sum(bt[i][k] * d[k][l] * bt[j][l] for k in range(a) for l in range(a)) for j in range(a)] for i in range(a)]
        prod = [[u[i][j] * v[i][j] for j in range(a)] for i in range(a)]
        y = [[sum(at[p][i] * prod[i][j] * at[q][j] for i in range(a) for j in range(a)) for q in range(m)] for p in range(m)]
        direct = [[sum(w[k][l] * d[p + k][q + l] for k in range(r) for l in range(r)) for q in range(m)] for p in range(m)]
        assert y == direct, (m, r)


def ts_number(v):
    s = repr(float(v))
    return s[:-2] if s.endswith('.0') else s


def linear_combination(coeffs, names):
    """'2 * d1 - d3 + 0.5 * d4' from one matrix row; zero terms are left out."""
    terms = []
    for c, name in zip(coeffs, names):
        if c == 0:
            continue
        mag = abs(c)
        term = name if mag == 1 else f'{ts_number(mag)} * {name}'
        terms.append(('-' if c < 0 else '+', term))
    if not terms:
        return '0'
    sign, first = terms[0]
    text = ('-' if sign == '-' else '') + first
    for sign, term in terms[1:]:
        text += f' {sign} {term}'
    return text


def dyadic(v):
    return v.denominator & (v.denominator - 1) == 0


def row_pairs(mat):
    """Rows i < j with row_j[k] = sign * (-1)^k row_i[k]: the transforms of +p and -p.

    For such a pair, with E = the even-k terms of row i and O = the odd-k terms, row i is E + O
    and row j is sign * (E - O), which halves their additions (the usual hand optimisation of
    Winograd transforms, found here for any point set)."""
    pairs, used = [], set()
    for i, row in enumerate(mat):
        if i in used:
            continue
        for j in range(i + 1, len(mat)):
            if j in used:
                continue
            for sign in (1, -1):
                if any(v != 0 for v in row) and all(mat[j][k] == sign * (-1) ** k * row[k] for k in range(len(row))):
                    pairs.append((i, j, sign))
                    used.update((i, j))
                    break
            if i in used:
                break
    return pairs, used


def emit_rows(mat, ins, targets, indent, tmp):
    """Straight-line code for targets[i] = row i of mat applied to ins, pairing +-p rows."""
    pairs, used = row_pairs(mat)
    lines = []
    for n, (i, j, sign) in enumerate(pairs):
        even = [c if k % 2 == 0 else 0 for k, c in enumerate(mat[i])]
        odd = [c if k % 2 == 1 else 0 for k, c in enumerate(mat[i])]
        e, o = f'{tmp}e{n}', f'{tmp}o{n}'
        lines.append(f'{indent}const {e} = {linear_combination(even, ins)}, {o} = {linear_combination(odd, ins)};')
        lines.append(f'{indent}{targets[i]} = {e} + {o};')
        lines.append(f'{indent}{targets[j]} = {e + " - " + o if sign == 1 else o + " - " + e};')
    for i, row in enumerate(mat):
        if i not in used:
            lines.append(f'{indent}{targets[i]} = {linear_combination(row, ins)};')
    return lines


def column_pairs(mat):
    """Columns a < b with mat[y][b] = (-1)^y mat[y][a] for every row y (points +p and -p)."""
    cols = transpose(mat)
    pairs, used = [], set()
    for a, col in enumerate(cols):
        if a in used or all(v == 0 for v in col):
            continue
        for b in range(a + 1, len(cols)):
            if b not in used and all(cols[b][y] == (-1) ** y * col[y] for y in range(len(col))):
                pairs.append((a, b))
                used.update((a, b))
                break
    return pairs, used


def emit_columns(mat, ins, targets, indent, suffix=''):
    """targets[y] = row y of mat applied to ins, sharing m_a + m_b and m_a - m_b of each +-p
    column pair: even rows see p^y (m_a + m_b), odd rows p^y (m_a - m_b)."""
    pairs, used = column_pairs(mat)
    lines = []
    names = {}
    for n, (a, b) in enumerate(pairs):
        lines.append(f'{indent}const s{n} = {ins[a]} + {ins[b]}, t{n} = {ins[a]} - {ins[b]};')
        names[(a, b)] = (f's{n}', f't{n}')
    for y, row in enumerate(mat):
        coeffs, sources = [], []
        for (a, b), (sum_name, diff_name) in names.items():
            coeffs.append(row[a])
            sources.append(sum_name if y % 2 == 0 else diff_name)
        for k, c in enumerate(row):
            if k not in used:
                coeffs.append(c)
                sources.append(ins[k])
        lines.append(f'{indent}{targets[y]} = {linear_combination(coeffs, sources)}{suffix};')
    return lines


def emit_two_pass(doc, signature, scratch, columns, first_lines, rows, second_lines):
    """A 2-D transform as TypeScript: a loop over the columns (1-D pass into the scratch array),
    then a loop over the rows of the scratch (1-D pass into the destination)."""
    return '\n'.join([
        f'/** {doc} */',
        f'export function {signature}: void {{',
        f'  const t = {scratch};',
        f'  for (let col = 0; col < {columns}; col++) {{',
        *first_lines,
        '  }',
        f'  for (let row = 0; row < {rows}; row++) {{',
        *second_lines,
        '  }',
        '}',
    ])


def emit_input_transform(a, bt):
    """V = B^T d B for one a x a patch: columns first (into scratch), then rows."""
    ins = [f'd{k}' for k in range(a)]
    first = ['    const p = base + col;',
             '    const ' + ', '.join(f'd{k} = src[p + {k} * rowStride]' if k else 'd0 = src[p]' for k in range(a)) + ';',
             *emit_rows(bt, ins, [f't[{i * a} + col]' for i in range(a)], '    ', 'c')]
    second = [f'    const q = row * {a};',
              '    const ' + ', '.join(f'd{k} = t[q + {k}]' for k in range(a)) + ';',
              '    const o = dstBase + q * dstStride;',
              *emit_rows(bt, ins, ['dst[o]' if j == 0 else f'dst[o + {j} * dstStride]' for j in range(a)], '    ', 'r')]
    return emit_two_pass(
        f'V = B^T d B for the {a}x{a} patch at src[base + row * rowStride + col]; V[i * {a} + j] goes to dst[dstBase + (i * {a} + j) * dstStride].',
        f'inputTransform{a}(src: Float64Array, base: number, rowStride: number, dst: number[], dstBase: number, dstStride: number)',
        f'scratch{a}', a, first, a, second)


def output_transform_passes(m, a, at, row_targets, store_row=()):
    """The two passes of Y = A^T M A + bias for one tile: columns first (into scratch), then
    rows, whose m values go to `row_targets` (followed by the lines `store_row`)."""
    ins = [f'm{k}' for k in range(a)]
    first = ['    const p = base + col * srcStride;',
             '    const ' + ', '.join(f'm{k} = src[p + {k * a} * srcStride]' if k else 'm0 = src[p]' for k in range(a)) + ';',
             *emit_columns(at, ins, [f't[{i * a} + col]' for i in range(m)], '    ')]
    second = [f'    const q = row * {a};',
              '    const ' + ', '.join(f'm{k} = t[q + {k}]' for k in range(a)) + ';',
              '    const o = dstBase + row * dstRowStride;',
              *emit_columns(at, ins, row_targets, '    ', ' + bias'),
              *store_row]
    return first, second


def emit_output_transform(m, a, at):
    """Y = A^T M A + bias for one tile, into a Float64Array."""
    first, second = output_transform_passes(m, a, at, ['dst[o]' if j == 0 else f'dst[o + {j}]' for j in range(m)])
    return emit_two_pass(
        f'Y = A^T M A + bias, M[i * {a} + j] at src[base + (i * {a} + j) * srcStride]; Y[y][x] goes to dst[dstBase + y * dstRowStride + x].',
        f'outputTransform{m}x{a}(src: number[], base: number, srcStride: number, bias: number, dst: Float64Array, dstBase: number, dstRowStride: number)',
        f'scratchOut{a}', a, first, m, second)


def emit_output_transform_f32(m, a, at):
    """The same Y, stored to a Float32Array as lo * v + hi * |v| for v = Y + bias: (1, 0) stores
    Y, (1/2, 1/2) stores max(Y, 0) exactly (the fused ReLU, without a branch)."""
    first, second = output_transform_passes(
        m, a, at, [f'const y{j}' for j in range(m)],
        [f'    dst[{"o" if j == 0 else f"o + {j}"}] = lo * y{j} + hi * Math.abs(y{j});' for j in range(m)])
    return emit_two_pass(
        f'outputTransform{m}x{a} into a Float32Array: dst[dstBase + y * dstRowStride + x] = lo * v + hi * |v|, v = Y[y][x] + bias.',
        f'outputTransform{m}x{a}ToF32(src: number[], base: number, srcStride: number, bias: number, lo: number, hi: number, dst: Float32Array, dstBase: number, dstRowStride: number)',
        f'scratchOut{a}', a, first, m, second)


def rational_literal(v):
    """An exact fraction as TS source: '1 / 6' stays a division so the double is correctly rounded."""
    if v.denominator == 1:
        return str(v.numerator)
    if dyadic(v):
        return ts_number(v)
    return f'{v.numerator} / {v.denominator}'


def main():
    parts = [
        '// Generated by tools/gen_winograd.py: do not edit. The generator checks every matrix',
        '// exactly (Fractions) against the direct correlation before writing this file.',
        '//',
        '// Winograd F(m x m, r x r): Y = A^T [(G g G^T) (*) (B^T d B)] A. Points 0, +-1, +-2 (a = 6),',
        '// also +-1/2 (a = 8), +-3 (a = 10), +-3/2 (a = 12), plus infinity. B^T rows are scaled to',
        '// integers; G carries the fractions. See src/ops/conv2d-winograd.ts for how they are used.',
        '// V (the input transforms\' output) and M (the output transforms\' input) live in the conv\'s',
        '// arena, a packed array of doubles (src/ops/packed-doubles.ts), hence number[].',
        '',
    ]
    alphas = sorted({m + r - 1 for m, r in VARIANTS})
    for a in alphas:
        parts.append(f'const scratch{a} = new Float64Array({a * a});')
        parts.append(f'const scratchOut{a} = new Float64Array({a * a});')
    parts.append('')
    parts.append('export interface WinogradMatrices {')
    parts.append('  readonly m: number;')
    parts.append('  readonly r: number;')
    parts.append('  readonly alpha: number;')
    parts.append('  /** A^T, m x alpha, row-major */')
    parts.append('  readonly at: readonly number[];')
    parts.append('  /** G, alpha x r, row-major (exact fractions rounded once to double) */')
    parts.append('  readonly g: readonly number[];')
    parts.append('  /** B^T, alpha x alpha, row-major, integers */')
    parts.append('  readonly bt: readonly number[];')
    parts.append('}')
    parts.append('')
    seen_input = set()
    for m, r in VARIANTS:
        a = m + r - 1
        at, g, bt = matrices(m, r)
        check(m, r, at, g, bt)
        assert all(v.denominator == 1 for row in bt for v in row)
        assert all(dyadic(v) for row in at for v in row)
        flat = lambda mat: ', '.join(rational_literal(v) for row in mat for v in row)
        parts.append(f'/** F({m}x{m}, {r}x{r}), alpha {a}. */')
        parts.append(f'export const WINOGRAD_F{m}_{r}: WinogradMatrices = {{')
        parts.append(f'  m: {m},')
        parts.append(f'  r: {r},')
        parts.append(f'  alpha: {a},')
        parts.append(f'  at: [{flat(at)}],')
        parts.append(f'  g: [{flat(g)}],')
        parts.append(f'  bt: [{flat(bt)}],')
        parts.append('};')
        parts.append('')
        if a not in seen_input:
            seen_input.add(a)
            parts.append(emit_input_transform(a, bt))
            parts.append('')
        parts.append(emit_output_transform(m, a, at))
        parts.append('')
        parts.append(emit_output_transform_f32(m, a, at))
        parts.append('')
    OUT.write_text('\n'.join(parts))
    print(f'wrote {OUT} ({len(VARIANTS)} variants, all checked exactly)')


if __name__ == '__main__':
    main()
