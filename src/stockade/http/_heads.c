/* Byte-level work on message heads, in C: reading the field lines of a
 * received head and writing the head of a forwarded message.
 *
 * Each function covers the valid case only. It returns None for anything
 * it does not accept, and the caller then runs the Python code of
 * field_lines.py or serialize.py, which raises the precise error. So this
 * module accepts a subset of what the Python code accepts, and for that
 * subset returns the same values. tests/http/test_heads.py compares the two.
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>

/* tchar of RFC 9110 section 5.6.2. */
static unsigned char token_char[256];
/* Bytes allowed inside one line of a head: HTAB, SP, VCHAR and obs-text. */
static unsigned char line_char[256];
/* The version written in every forwarded start line, and the versions that
 * scan_request_head returns, made when the module loads. */
static PyObject *http11;
static PyObject *version_1_1;
static PyObject *version_1_0;

static void
fill_tables(void)
{
    const char *specials = "!#$%&'*+-.^_`|~";
    for (int byte = 0; byte < 256; byte++) {
        token_char[byte] = (byte >= '0' && byte <= '9') || (byte >= 'a' && byte <= 'z')
                           || (byte >= 'A' && byte <= 'Z');
        line_char[byte] = byte == '\t' || (byte >= 0x20 && byte != 0x7f);
    }
    for (const char *special = specials; *special; special++) {
        token_char[(unsigned char)*special] = 1;
    }
}

/* Lower-case names whose values the parser interprets (FRAMING_FIELD_NAMES). */
static const char *const framing_names[] = {
    "content-length", "transfer-encoding", "host", "connection", "expect",
};
#define FRAMING_NAME_COUNT (sizeof(framing_names) / sizeof(framing_names[0]))

static int
is_framing_name(const char *name, Py_ssize_t length)
{
    for (size_t index = 0; index < FRAMING_NAME_COUNT; index++) {
        if ((size_t)length == strlen(framing_names[index])
            && memcmp(name, framing_names[index], (size_t)length) == 0) {
            return 1;
        }
    }
    return 0;
}

/* Return the offset of the CRLF that ends the line starting at `start`, or
 * `length` for the last line. Return -1 when the line has a byte outside
 * line_char, or a CR or LF that is not part of a CRLF. */
static Py_ssize_t
line_end(const unsigned char *data, Py_ssize_t start, Py_ssize_t length)
{
    for (Py_ssize_t offset = start; offset < length; offset++) {
        unsigned char byte = data[offset];
        if (line_char[byte]) {
            continue;
        }
        if (byte == '\r' && offset + 1 < length && data[offset + 1] == '\n') {
            return offset;
        }
        return -1;
    }
    return length;
}

/* Append `value` to the list stored under `name` in `framing`, making the list if needed. */
static int
add_framing_value(PyObject *framing, PyObject *name, PyObject *value)
{
    PyObject *values = PyDict_GetItemWithError(framing, name);
    if (values != NULL) {
        return PyList_Append(values, value);
    }
    if (PyErr_Occurred()) {
        return -1;
    }
    values = PyList_New(1);
    if (values == NULL) {
        return -1;
    }
    Py_INCREF(value);
    PyList_SET_ITEM(values, 0, value);
    int status = PyDict_SetItem(framing, name, values);
    Py_DECREF(values);
    return status;
}

/* Read one field line, data[start:end], into the three collections.
 * Return 0 on success, 1 for a line that is not a valid field line, and -1
 * with an exception set. */
static int
read_field_line(const unsigned char *data, Py_ssize_t start, Py_ssize_t end, PyObject *items,
                PyObject *names, PyObject *framing)
{
    Py_ssize_t colon = start;
    int upper = 0;
    while (colon < end && token_char[data[colon]]) {
        upper |= data[colon] >= 'A' && data[colon] <= 'Z';
        colon++;
    }
    if (colon == start || colon == end || data[colon] != ':') {
        return 1;  /* empty name, no colon, or a byte that is not a token char before it */
    }
    Py_ssize_t value_start = colon + 1;
    Py_ssize_t value_end = end;
    while (value_start < value_end && (data[value_start] == ' ' || data[value_start] == '\t')) {
        value_start++;
    }
    while (value_end > value_start && (data[value_end - 1] == ' ' || data[value_end - 1] == '\t')) {
        value_end--;
    }
    PyObject *name = PyBytes_FromStringAndSize((const char *)data + start, colon - start);
    PyObject *value = PyBytes_FromStringAndSize((const char *)data + value_start,
                                                value_end - value_start);
    PyObject *lowered = NULL;
    PyObject *item = NULL;
    int status = -1;
    if (name == NULL || value == NULL) {
        goto done;
    }
    if (upper) {
        lowered = PyBytes_FromStringAndSize(NULL, colon - start);
        if (lowered == NULL) {
            goto done;
        }
        char *target = PyBytes_AS_STRING(lowered);
        for (Py_ssize_t offset = start; offset < colon; offset++) {
            unsigned char byte = data[offset];
            *target++ = (char)(byte >= 'A' && byte <= 'Z' ? byte + ('a' - 'A') : byte);
        }
    }
    else {
        lowered = name;
        Py_INCREF(lowered);
    }
    item = PyTuple_Pack(2, name, value);
    if (item == NULL || PyList_Append(items, item) < 0 || PyList_Append(names, lowered) < 0) {
        goto done;
    }
    if (is_framing_name(PyBytes_AS_STRING(lowered), colon - start)
        && add_framing_value(framing, lowered, value) < 0) {
        goto done;
    }
    status = 0;
done:
    Py_XDECREF(name);
    Py_XDECREF(value);
    Py_XDECREF(lowered);
    Py_XDECREF(item);
    return status;
}

/* Read the field lines of `head` after its start line, which ends at `end`, into new
 * collections. Return 1 and set the three outputs, 0 for a head that may be invalid
 * or has more than `max_fields` field lines, or -1 with an exception set. */
static int
scan_fields(const unsigned char *data, Py_ssize_t length, Py_ssize_t end, Py_ssize_t max_fields,
            PyObject **items_out, PyObject **names_out, PyObject **framing_out)
{
    PyObject *items = PyList_New(0);
    PyObject *names = PyList_New(0);
    PyObject *framing = PyDict_New();
    int status = -1;
    if (items == NULL || names == NULL || framing == NULL) {
        goto done;
    }
    Py_ssize_t fields = 0;
    while (end < length) {
        Py_ssize_t start = end + 2;
        end = line_end(data, start, length);
        if (end < 0 || ++fields > max_fields) {
            status = 0;
            goto done;
        }
        int line_status = read_field_line(data, start, end, items, names, framing);
        if (line_status != 0) {
            status = line_status > 0 ? 0 : -1;
            goto done;
        }
    }
    *items_out = items;
    *names_out = names;
    *framing_out = framing;
    return 1;
done:
    Py_XDECREF(items);
    Py_XDECREF(names);
    Py_XDECREF(framing);
    return status;
}

/* Return what a scan function returns when scan_fields gave `status`, 0 or -1:
 * None for a head left to the Python code, NULL with the exception set. */
static PyObject *
not_scanned(int status)
{
    if (status == 0) {
        Py_RETURN_NONE;
    }
    return NULL;
}

/* Check the arguments (head, then `count` - 1 ints) and read the ints into `limits`.
 * Return 0 when they are valid, 1 for a head that is not bytes (a bytearray, say),
 * which the Python code reads, and -1 with an exception set. */
static int
scan_arguments(PyObject *const *args, Py_ssize_t count, Py_ssize_t expected, Py_ssize_t *limits,
               const char *usage)
{
    if (count != expected) {
        PyErr_SetString(PyExc_TypeError, usage);
        return -1;
    }
    if (!PyBytes_CheckExact(args[0])) {
        return 1;
    }
    for (Py_ssize_t index = 1; index < count; index++) {
        if (!PyLong_CheckExact(args[index])) {
            PyErr_SetString(PyExc_TypeError, usage);
            return -1;
        }
        limits[index - 1] = PyLong_AsSsize_t(args[index]);
        if (limits[index - 1] == -1 && PyErr_Occurred()) {
            return -1;
        }
    }
    return 0;
}

PyDoc_STRVAR(scan_head_doc,
"scan_head(head, max_field_count, /)\n--\n\n"
"Return (start_line, items, lowered_names, framing) for a valid head, else None.\n\n"
"``head`` is a message head without its last CRLF CRLF. The three last values\n"
"are those of field_lines.parse_field_lines. None also means more than\n"
"``max_field_count`` field lines.");

static PyObject *
scan_head(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t count)
{
    Py_ssize_t limits[1];
    int checked = scan_arguments(args, count, 2, limits,
                                 "scan_head(head: bytes, max_field_count: int)");
    if (checked != 0) {
        return not_scanned(checked > 0 ? 0 : -1);
    }
    const unsigned char *data = (const unsigned char *)PyBytes_AS_STRING(args[0]);
    Py_ssize_t length = PyBytes_GET_SIZE(args[0]);
    Py_ssize_t end = line_end(data, 0, length);
    if (end < 0) {
        Py_RETURN_NONE;
    }
    PyObject *items, *names, *framing;
    int status = scan_fields(data, length, end, limits[0], &items, &names, &framing);
    if (status <= 0) {
        return not_scanned(status);
    }
    PyObject *start_line = PyBytes_FromStringAndSize((const char *)data, end);
    PyObject *result = start_line == NULL ? NULL
                                          : PyTuple_Pack(4, start_line, items, names, framing);
    Py_XDECREF(start_line);
    Py_DECREF(items);
    Py_DECREF(names);
    Py_DECREF(framing);
    return result;
}

/* Return 1 when data[start:end] is a valid request target: VCHAR and obs-text only. */
static int
is_target(const unsigned char *data, Py_ssize_t start, Py_ssize_t end)
{
    for (Py_ssize_t offset = start; offset < end; offset++) {
        if (data[offset] <= 0x20 || data[offset] == 0x7f) {
            return 0;
        }
    }
    return 1;
}

PyDoc_STRVAR(scan_request_head_doc,
"scan_request_head(head, max_field_count, max_target_bytes, /)\n--\n\n"
"Return (method, target, version, items, lowered_names, framing) for a valid\n"
"request head, else None.\n\n"
"``version`` is b\"1.1\" or b\"1.0\". None also covers a request line that\n"
"RequestParser._parse_request_line would reject, CONNECT included.");

static PyObject *
scan_request_head(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t count)
{
    Py_ssize_t limits[2];
    int checked = scan_arguments(args, count, 3, limits,
                                 "scan_request_head(head: bytes, max_field_count: int, "
                                 "max_target_bytes: int)");
    if (checked != 0) {
        return not_scanned(checked > 0 ? 0 : -1);
    }
    const unsigned char *data = (const unsigned char *)PyBytes_AS_STRING(args[0]);
    Py_ssize_t length = PyBytes_GET_SIZE(args[0]);
    Py_ssize_t end = line_end(data, 0, length);
    if (end < 0) {
        Py_RETURN_NONE;
    }
    /* method SP request-target SP HTTP-version, one SP each. */
    Py_ssize_t method_end = 0;
    while (method_end < end && token_char[data[method_end]]) {
        method_end++;
    }
    if (method_end == 0 || method_end >= end || data[method_end] != ' ') {
        Py_RETURN_NONE;
    }
    Py_ssize_t target_start = method_end + 1;
    const unsigned char *space = memchr(data + target_start, ' ', (size_t)(end - target_start));
    if (space == NULL) {
        Py_RETURN_NONE;
    }
    Py_ssize_t target_end = space - data;
    Py_ssize_t version_start = target_end + 1;
    PyObject *version;
    if (end - version_start != 8 || memcmp(data + version_start, "HTTP/1.", 7) != 0) {
        Py_RETURN_NONE;
    }
    if (data[end - 1] == '1') {
        version = version_1_1;
    }
    else if (data[end - 1] == '0') {
        version = version_1_0;
    }
    else {
        Py_RETURN_NONE;
    }
    if (target_end == target_start || target_end - target_start > limits[1]
        || !is_target(data, target_start, target_end)
        || (method_end == 7 && memcmp(data, "CONNECT", 7) == 0)) {
        Py_RETURN_NONE;
    }
    PyObject *items, *names, *framing;
    int status = scan_fields(data, length, end, limits[0], &items, &names, &framing);
    if (status <= 0) {
        return not_scanned(status);
    }
    PyObject *method = PyBytes_FromStringAndSize((const char *)data, method_end);
    PyObject *target = PyBytes_FromStringAndSize((const char *)data + target_start,
                                                 target_end - target_start);
    PyObject *result = NULL;
    if (method != NULL && target != NULL) {
        result = PyTuple_Pack(6, method, target, version, items, names, framing);
    }
    Py_XDECREF(method);
    Py_XDECREF(target);
    Py_DECREF(items);
    Py_DECREF(names);
    Py_DECREF(framing);
    return result;
}

PyDoc_STRVAR(kept_items_doc,
"kept_items(items, lowered_names, drop, /)\n--\n\n"
"Return a new list of the items whose lower-cased name is not in the set ``drop``,\n"
"or None when the arguments are not two lists of the same length and a set.");

static PyObject *
kept_items(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t count)
{
    if (count != 3) {
        PyErr_SetString(PyExc_TypeError, "kept_items(items, lowered_names, drop)");
        return NULL;
    }
    if (!PyList_CheckExact(args[0]) || !PyList_CheckExact(args[1]) || !PyAnySet_Check(args[2])
        || PyList_GET_SIZE(args[0]) != PyList_GET_SIZE(args[1])) {
        Py_RETURN_NONE;  /* other sequences are left to the Python code */
    }
    Py_ssize_t size = PyList_GET_SIZE(args[0]);
    PyObject *forwarded = PyList_New(0);
    if (forwarded == NULL) {
        return NULL;
    }
    for (Py_ssize_t index = 0; index < size; index++) {
        int dropped = PySet_Contains(args[2], PyList_GET_ITEM(args[1], index));
        if (dropped < 0
            || (!dropped && PyList_Append(forwarded, PyList_GET_ITEM(args[0], index)) < 0)) {
            Py_DECREF(forwarded);
            return NULL;
        }
    }
    return forwarded;
}

/* Return the size of the field lines of `items`, or -1 when an item is not a pair of
 * bytes, a name is not a token, or a value contains CR, LF or NUL. */
static Py_ssize_t
field_lines_size(PyObject *items)
{
    Py_ssize_t size = 0;
    Py_ssize_t count = PyList_GET_SIZE(items);
    for (Py_ssize_t index = 0; index < count; index++) {
        PyObject *item = PyList_GET_ITEM(items, index);
        if (!PyTuple_CheckExact(item) || PyTuple_GET_SIZE(item) != 2) {
            return -1;
        }
        PyObject *name = PyTuple_GET_ITEM(item, 0);
        PyObject *value = PyTuple_GET_ITEM(item, 1);
        if (!PyBytes_CheckExact(name) || !PyBytes_CheckExact(value)) {
            return -1;
        }
        const unsigned char *name_data = (const unsigned char *)PyBytes_AS_STRING(name);
        Py_ssize_t name_length = PyBytes_GET_SIZE(name);
        if (name_length == 0) {
            return -1;
        }
        for (Py_ssize_t offset = 0; offset < name_length; offset++) {
            if (!token_char[name_data[offset]]) {
                return -1;
            }
        }
        const char *value_data = PyBytes_AS_STRING(value);
        Py_ssize_t value_length = PyBytes_GET_SIZE(value);
        if (memchr(value_data, '\r', (size_t)value_length) != NULL
            || memchr(value_data, '\n', (size_t)value_length) != NULL
            || memchr(value_data, '\0', (size_t)value_length) != NULL) {
            return -1;
        }
        size += name_length + value_length + 4;  /* ": " and CRLF */
    }
    return size;
}

/* Write the field lines of `items`, already checked by field_lines_size, at `target`. */
static char *
write_field_lines(char *target, PyObject *items)
{
    Py_ssize_t count = PyList_GET_SIZE(items);
    for (Py_ssize_t index = 0; index < count; index++) {
        PyObject *item = PyList_GET_ITEM(items, index);
        PyObject *name = PyTuple_GET_ITEM(item, 0);
        PyObject *value = PyTuple_GET_ITEM(item, 1);
        memcpy(target, PyBytes_AS_STRING(name), (size_t)PyBytes_GET_SIZE(name));
        target += PyBytes_GET_SIZE(name);
        *target++ = ':';
        *target++ = ' ';
        memcpy(target, PyBytes_AS_STRING(value), (size_t)PyBytes_GET_SIZE(value));
        target += PyBytes_GET_SIZE(value);
        *target++ = '\r';
        *target++ = '\n';
    }
    return target;
}

/* Return 1 when `part` contains no CR, LF or NUL, and no SP unless `spaces` is set. */
static int
is_start_line_part(PyObject *part, int spaces)
{
    const char *data = PyBytes_AS_STRING(part);
    size_t length = (size_t)PyBytes_GET_SIZE(part);
    return memchr(data, '\r', length) == NULL && memchr(data, '\n', length) == NULL
           && memchr(data, '\0', length) == NULL
           && (spaces || memchr(data, ' ', length) == NULL);
}

/* Return the whole head: `first` SP `second` SP `third` CRLF, the field lines, CRLF. */
static PyObject *
write_head(PyObject *first, PyObject *second, PyObject *third, PyObject *items)
{
    Py_ssize_t fields_size = field_lines_size(items);
    if (fields_size < 0) {
        Py_RETURN_NONE;
    }
    Py_ssize_t size = PyBytes_GET_SIZE(first) + PyBytes_GET_SIZE(second)
                      + PyBytes_GET_SIZE(third) + fields_size + 6;
    PyObject *head = PyBytes_FromStringAndSize(NULL, size);
    if (head == NULL) {
        return NULL;
    }
    char *target = PyBytes_AS_STRING(head);
    PyObject *parts[3] = {first, second, third};
    for (int index = 0; index < 3; index++) {
        memcpy(target, PyBytes_AS_STRING(parts[index]), (size_t)PyBytes_GET_SIZE(parts[index]));
        target += PyBytes_GET_SIZE(parts[index]);
        *target++ = index < 2 ? ' ' : '\r';
    }
    *target++ = '\n';
    target = write_field_lines(target, items);
    *target++ = '\r';
    *target++ = '\n';
    return head;
}

/* Check the arguments of request_head and response_head: two bytes and a list.
 * Return 1 when they are, 0 for other types, which the Python code writes, and -1
 * with TypeError set for a wrong argument count. */
static int
head_arguments(PyObject *const *args, Py_ssize_t count, const char *usage)
{
    if (count != 3) {
        PyErr_SetString(PyExc_TypeError, usage);
        return -1;
    }
    return PyBytes_CheckExact(args[0]) && PyBytes_CheckExact(args[1])
           && PyList_CheckExact(args[2]);
}

PyDoc_STRVAR(request_head_doc,
"request_head(method, target, items, /)\n--\n\n"
"Return ``method target HTTP/1.1``, the field lines of ``items`` and the empty line,\n"
"or None when a part is invalid (see serialize.serialize_request_head).");

static PyObject *
request_head(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t count)
{
    int checked = head_arguments(args, count, "request_head(method, target, items)");
    if (checked <= 0) {
        return checked < 0 ? NULL : Py_NewRef(Py_None);
    }
    if (PyBytes_GET_SIZE(args[0]) == 0 || PyBytes_GET_SIZE(args[1]) == 0
        || !is_start_line_part(args[0], 0) || !is_start_line_part(args[1], 0)) {
        Py_RETURN_NONE;
    }
    return write_head(args[0], args[1], http11, args[2]);
}

PyDoc_STRVAR(response_head_doc,
"response_head(status_code, reason, items, /)\n--\n\n"
"Return ``HTTP/1.1 status_code reason``, the field lines of ``items`` and the empty\n"
"line, or None when a part is invalid (see serialize.serialize_response_head).\n"
"``status_code`` is the three-digit code as bytes.");

static PyObject *
response_head(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t count)
{
    int checked = head_arguments(args, count, "response_head(status_code, reason, items)");
    if (checked <= 0) {
        return checked < 0 ? NULL : Py_NewRef(Py_None);
    }
    if (!is_start_line_part(args[0], 0) || !is_start_line_part(args[1], 1)) {
        Py_RETURN_NONE;
    }
    return write_head(http11, args[0], args[1], args[2]);
}

static PyMethodDef methods[] = {
    {"scan_head", (PyCFunction)(void (*)(void))scan_head, METH_FASTCALL, scan_head_doc},
    {"scan_request_head", (PyCFunction)(void (*)(void))scan_request_head, METH_FASTCALL,
     scan_request_head_doc},
    {"kept_items", (PyCFunction)(void (*)(void))kept_items, METH_FASTCALL, kept_items_doc},
    {"request_head", (PyCFunction)(void (*)(void))request_head, METH_FASTCALL, request_head_doc},
    {"response_head", (PyCFunction)(void (*)(void))response_head, METH_FASTCALL,
     response_head_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef heads_module = {
    PyModuleDef_HEAD_INIT,
    "stockade.http._heads",
    "Byte-level reading and writing of message heads, for the valid case only.",
    -1,
    methods,
    NULL,
    NULL,
    NULL,
    NULL,
};

PyMODINIT_FUNC
PyInit__heads(void)
{
    fill_tables();
    if (http11 == NULL) {
        http11 = PyBytes_FromStringAndSize("HTTP/1.1", 8);
        version_1_1 = PyBytes_FromStringAndSize("1.1", 3);
        version_1_0 = PyBytes_FromStringAndSize("1.0", 3);
        if (http11 == NULL || version_1_1 == NULL || version_1_0 == NULL) {
            return NULL;
        }
    }
    return PyModule_Create(&heads_module);
}
