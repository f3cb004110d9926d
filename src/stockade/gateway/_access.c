/* The text of one access line, in C.
 *
 * format_line writes what accesslog._python_line writes for the same entry:
 * the JSON of json.dumps with ensure_ascii, with the millisecond values
 * rounded to three decimals. It returns None for an entry it does not
 * cover (an integer beyond 64 bits, a float beyond MILLI_LIMIT or not
 * finite, a value of an unexpected type), and the caller then formats that
 * entry in Python. tests/gateway/test_access.py compares the two.
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* Below this magnitude a value with three decimals has at most 15 significant digits,
 * so its fixed-point text without trailing zeros is what repr(round(value, 3)) gives
 * (see accesslog.MILLI_TEXT_LIMIT). */
#define MILLI_LIMIT 1e12

/* Fields of the entry tuple, in the order accesslog._entry makes them. */
enum {
    STARTED_WALL, REQUEST_ID, MATCH, CLIENT, METHOD, AUTHORITY, TARGET, STATUS, BYTES_IN,
    BYTES_OUT, DURATION, UPSTREAM, UPSTREAM_SECONDS, CONSUMER, VERDICTS, CONNECT_SECONDS,
    ENTRY_SIZE
};

/* A growing byte buffer; `failed` is set once memory runs out. */
typedef struct {
    char *data;
    size_t length;
    size_t capacity;
    int failed;
    char inline_data[1024];
} Text;

static void
text_init(Text *text)
{
    text->data = text->inline_data;
    text->length = 0;
    text->capacity = sizeof(text->inline_data);
    text->failed = 0;
}

static void
text_free(Text *text)
{
    if (text->data != text->inline_data) {
        PyMem_Free(text->data);
    }
}

/* Make room for `extra` more bytes; return 0 when memory runs out. */
static int
text_reserve(Text *text, size_t extra)
{
    if (text->failed) {
        return 0;
    }
    if (text->length + extra <= text->capacity) {
        return 1;
    }
    size_t capacity = text->capacity * 2;
    while (capacity < text->length + extra) {
        capacity *= 2;
    }
    char *data = PyMem_Malloc(capacity);
    if (data == NULL) {
        text->failed = 1;
        return 0;
    }
    memcpy(data, text->data, text->length);
    text_free(text);
    text->data = data;
    text->capacity = capacity;
    return 1;
}

static void
text_add(Text *text, const char *data, size_t length)
{
    if (text_reserve(text, length)) {
        memcpy(text->data + text->length, data, length);
        text->length += length;
    }
}

static void
text_add_literal(Text *text, const char *literal)
{
    text_add(text, literal, strlen(literal));
}

static const char hex_digits[] = "0123456789abcdef";

/* Return the letter of the two-character escape of `point`, or 0 when it has none. */
static char
short_escape(Py_UCS4 point)
{
    switch (point) {
    case '\n':
        return 'n';
    case '\r':
        return 'r';
    case '\t':
        return 't';
    case '\b':
        return 'b';
    case '\f':
        return 'f';
    default:
        return 0;
    }
}

/* Add one code point as json.dumps with ensure_ascii writes it inside a string. */
static void
add_escaped(Text *text, Py_UCS4 point)
{
    if (!text_reserve(text, 12)) {
        return;
    }
    char *out = text->data + text->length;
    if (point >= 0x20 && point <= 0x7e && point != '"' && point != '\\') {
        *out++ = (char)point;
    }
    else if (point == '"' || point == '\\') {
        *out++ = '\\';
        *out++ = (char)point;
    }
    else if (short_escape(point) != 0) {
        *out++ = '\\';
        *out++ = short_escape(point);
    }
    else {
        Py_UCS4 units[2];
        int count = 1;
        units[0] = point;
        if (point >= 0x10000) {
            Py_UCS4 offset = point - 0x10000;
            units[0] = 0xd800 | ((offset >> 10) & 0x3ff);
            units[1] = 0xdc00 | (offset & 0x3ff);
            count = 2;
        }
        for (int index = 0; index < count; index++) {
            *out++ = '\\';
            *out++ = 'u';
            for (int shift = 12; shift >= 0; shift -= 4) {
                *out++ = hex_digits[(units[index] >> shift) & 0xf];
            }
        }
    }
    text->length = (size_t)(out - text->data);
}

/* Add one-byte characters inside a JSON string, copying the runs that need no escape. */
static void
add_byte_chars(Text *text, const unsigned char *data, Py_ssize_t length)
{
    Py_ssize_t run = 0;
    for (Py_ssize_t index = 0; index < length; index++) {
        unsigned char byte = data[index];
        if (byte >= 0x20 && byte <= 0x7e && byte != '"' && byte != '\\') {
            continue;
        }
        text_add(text, (const char *)data + run, (size_t)(index - run));
        add_escaped(text, byte);
        run = index + 1;
    }
    text_add(text, (const char *)data + run, (size_t)(length - run));
}

/* Add a str as a JSON string; return 0 when `value` is not a str. */
static int
add_str(Text *text, PyObject *value)
{
    if (!PyUnicode_CheckExact(value)) {
        return 0;
    }
    Py_ssize_t length = PyUnicode_GET_LENGTH(value);
    text_add(text, "\"", 1);
    if (PyUnicode_IS_ASCII(value)) {
        add_byte_chars(text, PyUnicode_1BYTE_DATA(value), length);
    }
    else {
        int kind = PyUnicode_KIND(value);
        const void *data = PyUnicode_DATA(value);
        for (Py_ssize_t index = 0; index < length; index++) {
            add_escaped(text, PyUnicode_READ(kind, data, index));
        }
    }
    text_add(text, "\"", 1);
    return 1;
}

/* Add bytes decoded as latin-1 as a JSON string; return 0 when `value` is not bytes. */
static int
add_latin1(Text *text, PyObject *value)
{
    if (!PyBytes_CheckExact(value)) {
        return 0;
    }
    text_add(text, "\"", 1);
    add_byte_chars(text, (const unsigned char *)PyBytes_AS_STRING(value),
                   PyBytes_GET_SIZE(value));
    text_add(text, "\"", 1);
    return 1;
}

/* Add a str, or null for None. */
static int
add_optional_str(Text *text, PyObject *value)
{
    if (value == Py_None) {
        text_add_literal(text, "null");
        return 1;
    }
    return add_str(text, value);
}

/* Add an int that fits in 64 bits. */
static int
add_int(Text *text, PyObject *value)
{
    if (!PyLong_CheckExact(value)) {
        return 0;
    }
    int overflow = 0;
    long long number = PyLong_AsLongLongAndOverflow(value, &overflow);
    if (overflow != 0 || (number == -1 && PyErr_Occurred())) {
        PyErr_Clear();
        return 0;
    }
    char digits[32];
    int length = snprintf(digits, sizeof(digits), "%lld", number);
    text_add(text, digits, (size_t)length);
    return 1;
}

/* Add `value` rounded to three decimals as repr(round(value, 3)) writes it. */
static int
add_milli(Text *text, double value)
{
    if (!(value > -MILLI_LIMIT && value < MILLI_LIMIT)) {
        return 0;  /* also NaN */
    }
    char digits[40];
    int length = snprintf(digits, sizeof(digits), "%.3f", value);
    if (length <= 0 || (size_t)length >= sizeof(digits)) {
        return 0;
    }
    while (digits[length - 1] == '0') {
        length--;  /* the text has a point, so this stops there at the latest */
    }
    if (digits[length - 1] == '.') {
        digits[length++] = '0';
    }
    text_add(text, digits, (size_t)length);
    return 1;
}

/* Add seconds * 1000 rounded to three decimals, or null for None. */
static int
add_optional_ms(Text *text, PyObject *seconds)
{
    if (seconds == Py_None) {
        text_add_literal(text, "null");
        return 1;
    }
    if (!PyFloat_CheckExact(seconds)) {
        return 0;
    }
    return add_milli(text, PyFloat_AS_DOUBLE(seconds) * 1000);
}

/* Add an ASCII str as it is: the route members and the verdicts' JSON. */
static int
add_raw(Text *text, PyObject *value)
{
    if (!PyUnicode_CheckExact(value) || !PyUnicode_IS_ASCII(value)) {
        return 0;
    }
    text_add(text, (const char *)PyUnicode_DATA(value), (size_t)PyUnicode_GET_LENGTH(value));
    return 1;
}

static int
write_line(Text *text, PyObject *const *entry, PyObject *route)
{
    PyObject *started = entry[STARTED_WALL];
    PyObject *duration = entry[DURATION];
    if (!PyFloat_CheckExact(started) || !PyFloat_CheckExact(duration)) {
        return 0;
    }
    text_add_literal(text, "{\"time\":");
    int valid = add_milli(text, PyFloat_AS_DOUBLE(started));
    text_add_literal(text, ",\"request_id\":");
    valid = valid && add_str(text, entry[REQUEST_ID]);
    text_add_literal(text, ",");
    valid = valid && add_raw(text, route);
    text_add_literal(text, ",\"client\":");
    valid = valid && add_str(text, entry[CLIENT]);
    text_add_literal(text, ",\"method\":");
    valid = valid && add_latin1(text, entry[METHOD]);
    text_add_literal(text, ",\"host\":");
    valid = valid && add_latin1(text, entry[AUTHORITY]);
    text_add_literal(text, ",\"path\":");
    valid = valid && add_latin1(text, entry[TARGET]);
    text_add_literal(text, ",\"status\":");
    valid = valid && add_int(text, entry[STATUS]);
    text_add_literal(text, ",\"bytes_in\":");
    valid = valid && add_int(text, entry[BYTES_IN]);
    text_add_literal(text, ",\"bytes_out\":");
    valid = valid && add_int(text, entry[BYTES_OUT]);
    text_add_literal(text, ",\"duration_ms\":");
    valid = valid && add_milli(text, PyFloat_AS_DOUBLE(duration) * 1000);
    text_add_literal(text, ",\"upstream\":");
    valid = valid && add_optional_str(text, entry[UPSTREAM]);
    text_add_literal(text, ",\"upstream_ms\":");
    valid = valid && add_optional_ms(text, entry[UPSTREAM_SECONDS]);
    text_add_literal(text, ",\"consumer\":");
    valid = valid && add_optional_str(text, entry[CONSUMER]);
    text_add_literal(text, ",\"verdicts\":");
    valid = valid && add_raw(text, entry[VERDICTS]);
    if (entry[CONNECT_SECONDS] != Py_None) {
        text_add_literal(text, ",\"upstream_connect_ms\":");
        valid = valid && add_optional_ms(text, entry[CONNECT_SECONDS]);
    }
    text_add_literal(text, "}");
    return valid;
}

PyDoc_STRVAR(format_line_doc,
"format_line(entry, route_members, /)\n--\n\n"
"Return the access line of ``entry``, a tuple made by accesslog._entry, or None\n"
"for an entry left to the Python code. ``route_members`` is the JSON text of\n"
"the tenant, service and route members.");

static PyObject *
format_line(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t count)
{
    if (count != 2) {
        PyErr_SetString(PyExc_TypeError, "format_line(entry, route_members)");
        return NULL;
    }
    if (!PyTuple_CheckExact(args[0]) || PyTuple_GET_SIZE(args[0]) != ENTRY_SIZE) {
        Py_RETURN_NONE;
    }
    Text text;
    text_init(&text);
    int valid = write_line(&text, &PyTuple_GET_ITEM(args[0], 0), args[1]);
    PyObject *result;
    if (text.failed) {
        result = PyErr_NoMemory();
    }
    else if (!valid) {
        result = Py_None;
        Py_INCREF(result);
    }
    else {
        result = PyUnicode_DecodeASCII(text.data, (Py_ssize_t)text.length, "strict");
    }
    text_free(&text);
    return result;
}

static PyMethodDef methods[] = {
    {"format_line", (PyCFunction)(void (*)(void))format_line, METH_FASTCALL, format_line_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef access_module = {
    PyModuleDef_HEAD_INIT,
    "stockade.gateway._access",
    "The text of one access line, for the entries it covers.",
    -1,
    methods,
    NULL,
    NULL,
    NULL,
    NULL,
};

PyMODINIT_FUNC
PyInit__access(void)
{
    return PyModule_Create(&access_module);
}
