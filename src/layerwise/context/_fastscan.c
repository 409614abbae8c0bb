/* The hot loop of a build-context snapshot, in C: list one folder and lstat its entries.
 *
 * layerwise.context.walk walks a context folder by folder. For each folder it needs every
 * entry's path, type/mode, size and stat stamp, and for regular files the stat-cache record
 * (stamp + sha256) when the stamp still matches. Doing that per entry in Python costs about
 * as much as the system calls themselves; here the system calls run without the GIL and the
 * Python objects are built in one pass. The pure-Python twin is walk._list_dir_py; both
 * return exactly the same thing (tests compare them), and the walk falls back to it when
 * this module cannot be built or LAYERWISE_PURE_PYTHON is set.
 *
 * list_dir(dirfd, prefix, cache, racy_limit, modes) -> (rels, modes, sizes, recs, nreg, hits, racy, errors)
 *
 *   dirfd       an open folder (not closed, not moved: the listing reads a duplicate)
 *   prefix      "" or "some/dir/": prepended to every name
 *   cache       dict rel -> bytes (32-byte stamp + 32-byte sha256), or None
 *   racy_limit  regular files with mtime or ctime (ns) at or after it are listed in racy
 *   modes       dict used to share the int objects of equal st_mode values
 *
 *   rels, modes, sizes, recs: one item per entry that could be stat'ed; regular files first
 *   (nreg of them), then the others, each group in directory order. recs[i] is the cached
 *   record when the cache has this path with the same stamp (hits counts those), else the
 *   32-byte stamp: STAMP = struct "<QqqQ" (size, mtime_ns, ctime_ns, inode).
 *   errors: (rel, errno) per entry whose lstat failed, and (None, errno) if reading the folder
 *   failed part-way (the entries read before stay listed).
 * Raises OSError if the folder cannot be opened for listing.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

typedef struct {
    size_t name_off; /* into the names buffer, NUL-terminated */
    size_t name_len;
    int err; /* lstat's errno, or 0 */
    mode_t mode;
    uint64_t size;
    int64_t mtime_ns;
    int64_t ctime_ns;
    uint64_t ino;
} item_t;

typedef struct {
    item_t *items;
    size_t n, cap;
    char *names;
    size_t names_len, names_cap;
    int read_err; /* readdir's errno, or 0 */
    int oom;
} listing_t;

static void listing_free(listing_t *l) {
    PyMem_RawFree(l->items);
    PyMem_RawFree(l->names);
}

static int listing_push(listing_t *l, const char *name, size_t len) {
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        item_t *items = PyMem_RawRealloc(l->items, cap * sizeof(item_t));
        if (items == NULL) return -1;
        l->items = items;
        l->cap = cap;
    }
    if (l->names_len + len + 1 > l->names_cap) {
        size_t cap = l->names_cap ? l->names_cap * 2 : 4096;
        while (cap < l->names_len + len + 1) cap *= 2;
        char *names = PyMem_RawRealloc(l->names, cap);
        if (names == NULL) return -1;
        l->names = names;
        l->names_cap = cap;
    }
    item_t *it = &l->items[l->n++];
    memset(it, 0, sizeof(*it));
    it->name_off = l->names_len;
    it->name_len = len;
    memcpy(l->names + l->names_len, name, len + 1);
    l->names_len += len + 1;
    return 0;
}

/* Runs without the GIL: readdir + one lstat per entry. Returns errno if the folder cannot be
 * opened for listing, else 0 (a failure part-way is recorded in read_err). */
static int list_raw(int dirfd, listing_t *l) {
    int fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
    if (fd < 0) return errno;
    DIR *d = fdopendir(fd);
    if (d == NULL) {
        int e = errno;
        close(fd);
        return e;
    }
    rewinddir(d); /* the duplicate shares the offset with dirfd */
    for (;;) {
        errno = 0;
        struct dirent *de = readdir(d);
        if (de == NULL) {
            l->read_err = errno;
            break;
        }
        const char *name = de->d_name;
        if (name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'))) continue;
        size_t len = strlen(name);
        if (listing_push(l, name, len) < 0) {
            l->oom = 1;
            break;
        }
        item_t *it = &l->items[l->n - 1];
        struct stat st;
        if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
            it->err = errno ? errno : EIO;
            continue;
        }
        it->mode = st.st_mode;
        it->size = (uint64_t)st.st_size;
        it->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
        it->ctime_ns = (int64_t)st.st_ctim.tv_sec * 1000000000LL + st.st_ctim.tv_nsec;
        it->ino = (uint64_t)st.st_ino;
    }
    closedir(d);
    return 0;
}

static void put_le64(unsigned char *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static PyObject *shared_mode(PyObject *modes, mode_t mode, mode_t *last_mode, PyObject **last_obj) {
    /* a borrowed reference to the int object ``modes`` holds for this value (folders are
     * mostly uniform: the last one is remembered) */
    if (*last_obj != NULL && *last_mode == mode) return *last_obj;
    PyObject *key = PyLong_FromUnsignedLong((unsigned long)mode);
    if (key == NULL) return NULL;
    PyObject *shared = PyDict_SetDefault(modes, key, key); /* borrowed */
    Py_DECREF(key);
    if (shared == NULL) return NULL;
    *last_mode = mode;
    *last_obj = shared;
    return shared;
}

static PyObject *fastscan_list_dir(PyObject *self, PyObject *args) {
    int dirfd;
    PyObject *prefix, *cache, *modes;
    long long racy_limit;
    if (!PyArg_ParseTuple(args, "iUOLO!:list_dir", &dirfd, &prefix, &cache, &racy_limit, &PyDict_Type, &modes))
        return NULL;
    if (cache != Py_None && !PyDict_Check(cache)) {
        PyErr_SetString(PyExc_TypeError, "cache must be a dict or None");
        return NULL;
    }

    listing_t l;
    memset(&l, 0, sizeof(l));
    int open_err;
    Py_BEGIN_ALLOW_THREADS
    open_err = list_raw(dirfd, &l);
    Py_END_ALLOW_THREADS
    if (open_err) {
        listing_free(&l);
        errno = open_err;
        return PyErr_SetFromErrno(PyExc_OSError);
    }
    if (l.oom) {
        listing_free(&l);
        return PyErr_NoMemory();
    }

    PyObject *rels = NULL, *modes_out = NULL, *sizes = NULL, *recs = NULL, *racy = NULL, *errors = NULL;
    PyObject *result = NULL;
    Py_ssize_t hits = 0, nreg = 0, ok = 0;
    for (size_t i = 0; i < l.n; i++) {
        if (!l.items[i].err) {
            ok++;
            if (S_ISREG(l.items[i].mode)) nreg++;
        }
    }
    rels = PyList_New(ok);
    modes_out = PyList_New(ok);
    sizes = PyList_New(ok);
    recs = PyList_New(ok);
    racy = PyList_New(0);
    errors = PyList_New(0);
    if (!rels || !modes_out || !sizes || !recs || !racy || !errors) goto done;

    Py_ssize_t prefix_len = PyUnicode_GET_LENGTH(prefix);
    mode_t last_mode = 0;
    PyObject *last_obj = NULL;
    Py_ssize_t next_reg = 0, next_other = nreg;
    for (size_t i = 0; i < l.n; i++) {
        item_t *it = &l.items[i];
        /* names as os.fsdecode gives them (surrogateescape for undecodable bytes) */
        PyObject *name = PyUnicode_DecodeFSDefaultAndSize(l.names + it->name_off, (Py_ssize_t)it->name_len);
        if (name == NULL) goto done;
        PyObject *rel;
        if (prefix_len) {
            rel = PyUnicode_Concat(prefix, name);
            Py_DECREF(name);
            if (rel == NULL) goto done;
        } else {
            rel = name;
        }
        if (it->err) {
            PyObject *pair = Py_BuildValue("(Ni)", rel, it->err);
            if (pair == NULL || PyList_Append(errors, pair) < 0) {
                Py_XDECREF(pair);
                goto done;
            }
            Py_DECREF(pair);
            continue;
        }
        int reg = S_ISREG(it->mode);
        Py_ssize_t k = reg ? next_reg++ : next_other++;
        PyList_SET_ITEM(rels, k, rel); /* steals */

        PyObject *mode_obj = shared_mode(modes, it->mode, &last_mode, &last_obj);
        if (mode_obj == NULL) goto done;
        Py_INCREF(mode_obj);
        PyList_SET_ITEM(modes_out, k, mode_obj);

        PyObject *size_obj = PyLong_FromUnsignedLongLong(it->size);
        if (size_obj == NULL) goto done;
        PyList_SET_ITEM(sizes, k, size_obj);

        unsigned char stamp[32];
        put_le64(stamp, it->size);
        put_le64(stamp + 8, (uint64_t)it->mtime_ns);
        put_le64(stamp + 16, (uint64_t)it->ctime_ns);
        put_le64(stamp + 24, it->ino);
        PyObject *rec = NULL;
        if (reg) {
            if (it->mtime_ns >= racy_limit || it->ctime_ns >= racy_limit) {
                if (PyList_Append(racy, rel) < 0) goto done;
            }
            if (cache != Py_None) {
                PyObject *cached = PyDict_GetItemWithError(cache, rel); /* borrowed */
                if (cached == NULL && PyErr_Occurred()) goto done;
                if (cached != NULL && PyBytes_Check(cached) && PyBytes_GET_SIZE(cached) >= 32 &&
                    memcmp(PyBytes_AS_STRING(cached), stamp, 32) == 0) {
                    Py_INCREF(cached);
                    rec = cached;
                    hits++;
                }
            }
        }
        if (rec == NULL) {
            rec = PyBytes_FromStringAndSize((const char *)stamp, 32);
            if (rec == NULL) goto done;
        }
        PyList_SET_ITEM(recs, k, rec);
    }
    result = Py_BuildValue("(OOOOnnOO)", rels, modes_out, sizes, recs, nreg, hits, racy, errors);
    if (result != NULL && l.read_err) {
        PyObject *pair = Py_BuildValue("(Oi)", Py_None, l.read_err);
        if (pair == NULL || PyList_Append(errors, pair) < 0) Py_CLEAR(result);
        Py_XDECREF(pair);
    }
done:
    /* lists built with PyList_New hold NULLs until filled: safe to release either way */
    Py_XDECREF(rels);
    Py_XDECREF(modes_out);
    Py_XDECREF(sizes);
    Py_XDECREF(recs);
    Py_XDECREF(racy);
    Py_XDECREF(errors);
    listing_free(&l);
    return result;
}

static PyMethodDef fastscan_methods[] = {
    {"list_dir", fastscan_list_dir, METH_VARARGS,
     "list_dir(dirfd, prefix, cache, racy_limit, modes) -> (rels, modes, sizes, recs, nreg, hits, racy, errors)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef fastscan_module = {
    PyModuleDef_HEAD_INIT, "_fastscan", "One folder of a build-context snapshot, listed and stat'ed in C.", -1,
    fastscan_methods,
};

PyMODINIT_FUNC PyInit__fastscan(void) { return PyModule_Create(&fastscan_module); }
