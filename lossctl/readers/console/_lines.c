/*
 * lossctl.readers.console._lines: the console scanner's three per-byte loops in C.
 *
 * The scanner (scanner.py) reads a console log as lines grouped by skeleton (the line with its
 * digits deleted) and parses the numbers of each group's lines at the positions its layout
 * names.  Done in Python that meant a bytes object per line, a translated copy of the file and
 * pandas' CSV tokenizer per group; here it is one pass to index the lines and one to parse:
 *
 *   index(data)   -> (starts, hashes): starts int64[n + 1] (line i is data[starts[i]:
 *                    starts[i + 1] - 1]; the split of data on b"\n" without its empty last
 *                    piece), hashes uint64[n] (64-bit FNV-1a of each line's skeleton, mixed with
 *                    its length: lines with equal hashes have the same skeleton);
 *   longest(data) -> (the length of the longest line (bytes between newlines), the number of
 *                    newlines);
 *   numbers(data, starts, rows, table, ntok, cols) -> (values float64[len(rows) * len(cols)],
 *                    ok uint8[len(rows)]): the tokens of each row's line, a token being a maximal
 *                    run of bytes that ``table`` (a 256-byte translation table) does not turn
 *                    into a space, exactly ``bytes.translate(table).split()``; a row is ok when
 *                    it has ``ntok`` tokens and the ones at ``cols`` parse whole as numbers
 *                    (correctly rounded, as Python's float(): the common decimal forms by
 *                    Clinger's exact fast path, anything else by C ``strtod``).
 *
 * Arrays are returned as bytearrays (numpy wraps them without a copy); the GIL is released
 * while scanning.  The pure-Python equivalents in fastpath.py are the reference.
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TOKEN 64  /* longer "numbers" are not numbers a training script prints */

static PyObject *py_index(PyObject *self, PyObject *args)
{
    Py_buffer buf;
    if (!PyArg_ParseTuple(args, "y*", &buf))
        return NULL;
    const unsigned char *p = buf.buf;
    Py_ssize_t len = buf.len, n = 0;
    for (const unsigned char *q = p; (q = memchr(q, '\n', (size_t)(p + len - q))) != NULL; q++)
        n++;
    if (len && p[len - 1] != '\n')
        n++;  /* an unterminated last line */
    PyObject *starts = PyByteArray_FromStringAndSize(NULL, (n + 1) * (Py_ssize_t)sizeof(int64_t));
    PyObject *hashes = PyByteArray_FromStringAndSize(NULL, (n ? n : 1) * (Py_ssize_t)sizeof(uint64_t));
    if (!starts || !hashes) {
        Py_XDECREF(starts);
        Py_XDECREF(hashes);
        PyBuffer_Release(&buf);
        return NULL;
    }
    int64_t *s = (int64_t *)PyByteArray_AS_STRING(starts);
    uint64_t *h = (uint64_t *)PyByteArray_AS_STRING(hashes);
    Py_BEGIN_ALLOW_THREADS
    Py_ssize_t i = 0, at = 0;
    while (i < n) {
        s[i] = at;
        const unsigned char *e = memchr(p + at, '\n', (size_t)(len - at));
        Py_ssize_t end = e ? (Py_ssize_t)(e - p) : len;
        uint64_t x = 1469598103934665603ULL, kept = 0;
        for (Py_ssize_t k = at; k < end; k++) {
            unsigned char c = p[k];
            if (c >= '0' && c <= '9')
                continue;
            x = (x ^ c) * 1099511628211ULL;
            kept++;
        }
        h[i] = (x ^ kept) * 0x9E3779B97F4A7C15ULL;
        at = end + 1;
        i++;
    }
    s[n] = at;
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&buf);
    if (!n && PyByteArray_Resize(hashes, 0) < 0) {
        Py_DECREF(starts);
        Py_DECREF(hashes);
        return NULL;
    }
    PyObject *out = PyTuple_Pack(2, starts, hashes);
    Py_DECREF(starts);
    Py_DECREF(hashes);
    return out;
}

static PyObject *py_longest(PyObject *self, PyObject *args)
{
    Py_buffer buf;
    if (!PyArg_ParseTuple(args, "y*", &buf))
        return NULL;
    const unsigned char *p = buf.buf, *end = p + buf.len;
    Py_ssize_t best = 0, ends = 0;
    Py_BEGIN_ALLOW_THREADS
    const unsigned char *at = p;
    for (;;) {
        const unsigned char *e = memchr(at, '\n', (size_t)(end - at));
        Py_ssize_t l = (e ? e : end) - at;
        if (l > best)
            best = l;
        if (!e)
            break;
        ends++;
        at = e + 1;
    }
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&buf);
    return Py_BuildValue("nn", best, ends);
}

/* 10^0 .. 10^22: exactly representable as doubles */
static const double POW10[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
                               1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/*
 * The common form [+-]digits[.digits][(e|E)[+-]digits] whose significant digits fit an integer
 * w <= 2^53 and whose decimal exponent e is within [-22, 22] is w * 10^e or w / 10^-e: both
 * operands exact doubles, so one IEEE operation gives the correctly rounded result, the same
 * bits as strtod (Clinger's fast path).  Returns 1 with *out set, 0 when the token is not of
 * that form (the caller then asks strtod, which decides whether it is a number at all).
 */
static int fast_decimal(const unsigned char *t, Py_ssize_t l, double *out)
{
    const unsigned char *p = t, *end = t + l;
    int neg = 0;
    if (p < end && (*p == '-' || *p == '+'))
        neg = *p++ == '-';
    uint64_t w = 0;
    int digits = 0, exp10 = 0, seen = 0;
    while (p < end && *p >= '0' && *p <= '9') {
        if (w || *p != '0')
            digits++;
        w = w * 10 + (uint64_t)(*p++ - '0');
        seen = 1;
        if (digits > 18)
            return 0;
    }
    if (p < end && *p == '.') {
        p++;
        while (p < end && *p >= '0' && *p <= '9') {
            if (w || *p != '0')
                digits++;
            w = w * 10 + (uint64_t)(*p++ - '0');
            exp10--;
            seen = 1;
            if (digits > 18)
                return 0;
        }
    }
    if (!seen)
        return 0;
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        int eneg = 0, e = 0, ed = 0;
        if (p < end && (*p == '-' || *p == '+'))
            eneg = *p++ == '-';
        while (p < end && *p >= '0' && *p <= '9') {
            e = e * 10 + (*p++ - '0');
            if (++ed > 4)
                return 0;
        }
        if (!ed)
            return 0;
        exp10 += eneg ? -e : e;
    }
    if (p != end || w > (1ULL << 53) || exp10 < -22 || exp10 > 22)
        return 0;
    double v = (double)w;
    v = exp10 < 0 ? v / POW10[-exp10] : v * POW10[exp10];
    *out = neg ? -v : v;
    return 1;
}

static int parse_token(const unsigned char *t, Py_ssize_t l, double *out)
{
    char tmp[MAX_TOKEN + 1];
    if (l <= 0 || l > MAX_TOKEN)
        return 0;
    if (fast_decimal(t, l, out))
        return 1;
    memcpy(tmp, t, (size_t)l);
    tmp[l] = 0;
    char *e;
    *out = strtod(tmp, &e);
    return e == tmp + l;
}

static PyObject *py_numbers(PyObject *self, PyObject *args)
{
    Py_buffer data, sb, rb, tb, cb;
    Py_ssize_t ntok;
    if (!PyArg_ParseTuple(args, "y*y*y*y*ny*", &data, &sb, &rb, &tb, &ntok, &cb))
        return NULL;
    PyObject *values = NULL, *ok = NULL, *out = NULL;
    Py_ssize_t nrows = rb.len / (Py_ssize_t)sizeof(int64_t), ncols = cb.len / (Py_ssize_t)sizeof(int64_t);
    Py_ssize_t nlines = sb.len / (Py_ssize_t)sizeof(int64_t) - 1;
    if (tb.len != 256 || ntok < 0) {
        PyErr_SetString(PyExc_ValueError, "numbers: table must be 256 bytes, ntok >= 0");
        goto done;
    }
    const int64_t *starts = sb.buf, *rows = rb.buf, *cols = cb.buf;
    for (Py_ssize_t r = 0; r < nrows; r++)
        if (rows[r] < 0 || rows[r] >= nlines) {
            PyErr_SetString(PyExc_IndexError, "numbers: row out of range");
            goto done;
        }
    for (Py_ssize_t c = 0; c < ncols; c++)
        if (cols[c] < 0 || cols[c] >= ntok || (c && cols[c] <= cols[c - 1])) {
            PyErr_SetString(PyExc_ValueError, "numbers: cols must increase within [0, ntok)");
            goto done;
        }
    values = PyByteArray_FromStringAndSize(NULL, nrows * ncols * (Py_ssize_t)sizeof(double));
    ok = PyByteArray_FromStringAndSize(NULL, nrows);
    if (!values || !ok)
        goto done;
    double *v = (double *)PyByteArray_AS_STRING(values);
    unsigned char *good = (unsigned char *)PyByteArray_AS_STRING(ok);
    const unsigned char *p = data.buf, *table = tb.buf;
    Py_ssize_t len = data.len;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t r = 0; r < nrows; r++) {
        Py_ssize_t a = starts[rows[r]], b = starts[rows[r] + 1] - 1;
        if (b > len)
            b = len;
        double *row = v + r * ncols;
        Py_ssize_t tok = 0, c = 0;
        int fine = 1;
        Py_ssize_t k = a;
        while (k < b) {
            while (k < b && table[p[k]] == ' ')
                k++;
            if (k >= b)
                break;
            Py_ssize_t t0 = k;
            while (k < b && table[p[k]] != ' ')
                k++;
            if (c < ncols && tok == cols[c]) {
                if (!parse_token(p + t0, k - t0, row + c)) {
                    fine = 0;
                    break;
                }
                c++;
            }
            tok++;
        }
        good[r] = (unsigned char)(fine && tok == ntok && c == ncols);
    }
    Py_END_ALLOW_THREADS
    out = PyTuple_Pack(2, values, ok);
done:
    Py_XDECREF(values);
    Py_XDECREF(ok);
    PyBuffer_Release(&data);
    PyBuffer_Release(&sb);
    PyBuffer_Release(&rb);
    PyBuffer_Release(&tb);
    PyBuffer_Release(&cb);
    return out;
}

static PyMethodDef methods[] = {
    {"index", py_index, METH_VARARGS, "index(data) -> (starts int64[n+1], skeleton hashes uint64[n]) as bytearrays"},
    {"longest", py_longest, METH_VARARGS, "longest(data) -> (length of the longest line, newlines)"},
    {"numbers", py_numbers, METH_VARARGS,
     "numbers(data, starts, rows, table, ntok, cols) -> (float64 values, uint8 ok) as bytearrays"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "_lines",
    .m_doc = "The console scanner's per-byte loops (see lossctl/readers/console/fastpath.py).",
    .m_size = -1,
    .m_methods = methods,
};

PyMODINIT_FUNC PyInit__lines(void) { return PyModule_Create(&module); }
