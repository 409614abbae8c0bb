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
 * list_dir(path, prefix, cache, racy_limit, modes, keep_fd)
 *     -> (rels, modes, sizes, recs, nreg, hits, racy, errors, fd)
 *
 *   path        the folder (opened and closed here, without the GIL)
 *   prefix      "" or "some/dir/": prepended to every name
 *   cache       dict rel -> bytes (32-byte stamp + 32-byte sha256), or the
 *               (paths, offsets, recs) buffers of a snapshot.StatCache, or None
 *   racy_limit  regular files with mtime or ctime (ns) at or after it are listed in racy
 *   modes       dict used to share the int objects of equal st_mode values
 *   keep_fd     flags: return an open descriptor of the folder as fd (else fd is -1), for
 *               the caller to read files relative to it and close: with 1 always, with 2
 *               when some regular file is not a cache hit (to hash it), with 8 when some
 *               entry is a symlink (to read it); 0: never. Plus 4: make sure the opened
 *               folder is at path, reached through no symlink (a parent swapped for one
 *               during the walk: the walk does not follow it), else fail with ELOOP. The
 *               kernel checks that as it opens the folder (openat2's RESOLVE_NO_SYMLINKS,
 *               Linux 5.6); without openat2 the folder is opened and where it is is read
 *               back from /proc/self/fd (when there is one) and compared with path
 *
 *   rels, modes, sizes, recs: one item per entry that could be stat'ed; regular files first
 *   (nreg of them), then the others, each group in name order (byte order; the order is
 *   not part of the contract, it only makes the snapshot's final sort cheap). recs[i] is the cached
 *   record when the cache has this path with the same stamp (hits counts those), else the
 *   32-byte stamp: STAMP = struct "<QqqQ" (size, mtime_ns, ctime_ns, inode).
 *   errors: (rel, errno) per entry whose lstat failed, and (None, errno) if reading the folder
 *   failed part-way (the entries read before stay listed).
 * Raises OSError if the folder cannot be opened for listing.
 *
 * sha256_setup(library) -> bool
 *     Load SHA-256 from OpenSSL's libcrypto (the library Python's own hashlib uses; found by
 *     the caller) with dlopen: no headers or link-time dependency. False if it has not the
 *     functions needed; hash_files is then unavailable.
 *
 * hash_files(dfd, rels, recs, stop, strip, skip, buffer) -> (hashed, bytes)
 *     For each i < stop whose recs[i] is a bare 32-byte stamp (and not in the collection skip,
 *     unless skip is None): open rels[i][strip:] relative to the folder dfd (the path as is
 *     when dfd is -1) without following a symlink, read it, sha256 it, fstat it; when it read
 *     exactly the stamp's size and the stamp did not change, recs[i] becomes stamp + sha256.
 *     Files that fail any of that keep their stamp: the caller's careful Python path reads
 *     them again and reports why. All of it runs without the GIL; buffer (a writable bytes-like
 *     object of at least 64 KiB) is where the content is read. hashed/bytes: how many files were
 *     hashed, and their size in total.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include "structmember.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

typedef struct {
    const char *name; /* set once the listing is complete (the buffer moves while it grows) */
    size_t name_off; /* into the names buffer, NUL-terminated */
    size_t name_len;
    int err; /* lstat's errno, or 0 */
    mode_t mode;
    uint64_t size;
    int64_t mtime_ns;
    int64_t ctime_ns;
    uint64_t ino;
    const unsigned char *found; /* the stat cache's record of this path (regular files), or NULL */
} item_t;

static int64_t ns_of(struct timespec t) { return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec; }

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

/* One entry read from the folder: record it and lstat it (relative to the folder). */
static int add_entry(int fd, const char *name, listing_t *l) {
    if (name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'))) return 0;
    size_t len = strlen(name);
    if (listing_push(l, name, len) < 0) {
        l->oom = 1;
        return -1;
    }
    item_t *it = &l->items[l->n - 1];
    struct stat st;
    if (fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
        it->err = errno ? errno : EIO;
        return 0;
    }
    it->mode = st.st_mode;
    it->size = (uint64_t)st.st_size;
    it->mtime_ns = ns_of(st.st_mtim);
    it->ctime_ns = ns_of(st.st_ctim);
    it->ino = (uint64_t)st.st_ino;
    return 0;
}

#ifdef __linux__
#include <sys/syscall.h>

struct dirent64_raw {
    uint64_t d_ino;
    int64_t d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
};

/* readdir without a DIR stream: getdents64 straight into a buffer (fdopendir's two fcntl
 * calls per folder are a tenth of the system calls of a warm snapshot) */
static void read_entries(int fd, listing_t *l) {
    union {
        char bytes[32768];
        uint64_t align;
    } buf;
    for (;;) {
        long n = syscall(SYS_getdents64, fd, buf.bytes, sizeof buf.bytes);
        if (n < 0) {
            l->read_err = errno;
            return;
        }
        if (n == 0) return;
        for (long off = 0; off < n;) {
            struct dirent64_raw *d = (struct dirent64_raw *)(buf.bytes + off);
            off += d->d_reclen;
            if (add_entry(fd, d->d_name, l) < 0) return;
        }
    }
}
#else
static void read_entries(int fd, listing_t *l) {
    int dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    DIR *d = dup_fd < 0 ? NULL : fdopendir(dup_fd);
    if (d == NULL) {
        l->read_err = errno;
        if (dup_fd >= 0) close(dup_fd);
        return;
    }
    for (;;) {
        errno = 0;
        struct dirent *de = readdir(d);
        if (de == NULL) {
            l->read_err = errno;
            break;
        }
        if (add_entry(fd, de->d_name, l) < 0) break;
    }
    closedir(d);
}
#endif

/* Runs without the GIL: open the folder, read it, lstat each entry. Returns errno if the
 * folder cannot be opened, else 0 (a failure part-way is recorded in read_err). With
 * keep_fd, *kept is the open folder for the caller to close. */
static int by_name(const void *a, const void *b) {
    return strcmp(((const item_t *)a)->name, ((const item_t *)b)->name);
}

/* 0 when the open folder fd is path (or the system does not say where it is), else ELOOP */
static int check_place(int fd, const char *path) {
    char proc[64], where[4097]; /* an open path is shorter than PATH_MAX (4096) */
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(proc, where, sizeof where);
    if (n < 0) return 0;
    return (size_t)n == strlen(path) && memcmp(where, path, (size_t)n) == 0 ? 0 : ELOOP;
}

#define DIR_FLAGS (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)

/* (a system whose headers lack openat2 builds without it: the /proc fallback below) */
#if defined(__linux__) && defined(SYS_openat2) && defined(__has_include)
#if __has_include(<linux/openat2.h>)
#define HAVE_OPENAT2 1
#endif
#endif

#ifdef HAVE_OPENAT2
#include <linux/openat2.h>
/* whether openat2 may be tried (cleared when the kernel, or a seccomp filter, refuses it;
 * set_openat2 switches it for the tests of the fallback) */
static int use_openat2 = 1;
#else
static int use_openat2 = 0;
#endif

/* The folder at path, opened without following a symlink anywhere on the path (see keep_fd
 * & 4): an fd, or -errno. path is absolute and canonical (the walk's real root + a relative
 * path of plain names), so "no symlink on the way" and "the folder /proc/self/fd names is
 * path" say the same; the kernel checks the first in the same path walk as the open, where
 * the second costs a readlink of /proc per folder (#17: 4,400 of them at 100,000 files). */
static int open_in_place(const char *path) {
#ifdef HAVE_OPENAT2
    if (use_openat2) {
        struct open_how how;
        memset(&how, 0, sizeof how);
        how.flags = DIR_FLAGS;
        how.resolve = RESOLVE_NO_SYMLINKS;
        long fd = syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof how);
        if (fd >= 0) return (int)fd;
        if (errno != ENOSYS && errno != EPERM && errno != E2BIG && errno != EINVAL) return -errno;
        /* older kernel, or a sandbox that refuses the call: the fallback below, from now on */
        use_openat2 = 0;
    }
#endif
    int fd = open(path, DIR_FLAGS);
    if (fd < 0) return -errno;
    int err = check_place(fd, path);
    if (err) {
        close(fd);
        return -err;
    }
    return fd;
}

static int list_raw(const char *path, int keep_fd, int *kept, listing_t *l) {
    *kept = -1;
    /* O_NOFOLLOW: a folder swapped for a symlink after its parent was listed is not followed;
     * keep_fd & 4 also refuses a path through a symlink (a parent swapped for one) */
    int fd = keep_fd & 4 ? open_in_place(path) : open(path, DIR_FLAGS);
    if (fd < 0) return keep_fd & 4 ? -fd : errno;
    read_entries(fd, l);
    int keep = keep_fd & 1;
    for (size_t i = 0; i < l->n && !keep; i++)
        if (!l->items[i].err)
            keep = ((keep_fd & 2) && S_ISREG(l->items[i].mode)) || ((keep_fd & 8) && S_ISLNK(l->items[i].mode));
    /* (with 2, kept while some regular file is listed: whether each is a cache hit is known
     * only after the lookups, which close it then if none missed) */
    if (keep)
        *kept = fd;
    else
        close(fd);
    /* in name order: the walk then yields long sorted runs, and the snapshot's final sort of
     * all paths is several times cheaper than on directory (hash) order */
    for (size_t i = 0; i < l->n; i++) l->items[i].name = l->names + l->items[i].name_off;
    if (l->n > 1) qsort(l->items, l->n, sizeof(item_t), by_name);
    return 0;
}

/* Little-endian 64-bit numbers (the stamps, the stat cache's offsets): one 8-byte copy on a
 * little-endian machine (#17: byte by byte, the stamps of a 100,000-file listing and the stat
 * cache's searches took ~70 M instructions, gcc did not merge the loops) */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define LE64_NATIVE 1
#else
#define LE64_NATIVE 0
#endif

static void put_le64(unsigned char *p, uint64_t v) {
    if (LE64_NATIVE) {
        memcpy(p, &v, 8);
        return;
    }
    for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}

/* the 32-byte stat stamp (STAMP in the contract above) */
static void put_stamp(unsigned char out[32], uint64_t size, int64_t mtime_ns, int64_t ctime_ns, uint64_t ino) {
    put_le64(out, size);
    put_le64(out + 8, (uint64_t)mtime_ns);
    put_le64(out + 16, (uint64_t)ctime_ns);
    put_le64(out + 24, ino);
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

/* A stat cache searched in place: paths (fs-encoded, sorted by bytes) in one buffer with
 * n + 1 little-endian u64 offsets, records of 64 bytes in another (snapshot.StatCache). */
typedef struct {
    const unsigned char *paths;
    Py_ssize_t paths_len;
    const unsigned char *offsets;
    const unsigned char *recs;
    Py_ssize_t n;
} index_t;

static uint64_t get_le64(const unsigned char *p) {
    uint64_t v = 0;
    if (LE64_NATIVE) {
        memcpy(&v, p, 8);
        return v;
    }
    for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

/* memcmp order of the index's path i against key (its first klen bytes, or all of it with
 * prefix_only: then a path that starts with key compares equal), both known to start with the
 * same skip bytes (the folder's prefix, within its range: only the names are compared); *bad
 * set for a damaged index */
static int index_cmp(const index_t *ix, Py_ssize_t i, const char *key, size_t klen, size_t skip, int prefix_only,
                     int *bad) {
    uint64_t a = get_le64(ix->offsets + 8 * i), b = get_le64(ix->offsets + 8 * (i + 1));
    if (a > b || b > (uint64_t)ix->paths_len || b - a < skip) {
        *bad = 1;
        return 0;
    }
    size_t slen = (size_t)(b - a);
    int c = memcmp(ix->paths + a + skip, key + skip, (slen < klen ? slen : klen) - skip);
    if (c == 0) c = prefix_only && slen >= klen ? 0 : (slen > klen) - (slen < klen);
    return c;
}

/* the first index in [lo, hi) whose path is not below key (lower bound); with prefix_only, the
 * first whose path neither starts with key nor is below it */
static Py_ssize_t index_bound(const index_t *ix, Py_ssize_t lo, Py_ssize_t hi, const char *key, size_t klen,
                              size_t skip, int prefix_only, int *bad) {
    while (lo < hi && !*bad) {
        Py_ssize_t mid = lo + (hi - lo) / 2;
        int c = index_cmp(ix, mid, key, klen, skip, prefix_only, bad);
        if (c < 0 || (prefix_only && c == 0))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* the lower bound of key in [lo, hi) when it is usually near lo (the next name of a folder):
 * probes lo, lo + 1, lo + 3, lo + 7, ... then a binary search of the last gap */
static Py_ssize_t index_gallop(const index_t *ix, Py_ssize_t lo, Py_ssize_t hi, const char *key, size_t klen,
                               size_t skip, int *bad) {
    for (Py_ssize_t step = 1;; step *= 2) {
        Py_ssize_t probe = lo + step - 1;
        if (probe >= hi) return index_bound(ix, lo, hi, key, klen, skip, 0, bad);
        int c = index_cmp(ix, probe, key, klen, skip, 0, bad);
        if (*bad) return hi;
        if (c >= 0) return index_bound(ix, lo, probe, key, klen, skip, 0, bad);
        lo = probe + 1;
    }
}

/* Without the GIL: the stat cache's record (items[i].found) of each regular file listed, key
 * holding the folder's prefix (prefix_len bytes, room for 256 more). The names are in byte
 * order, so their paths are too: each is searched among the cache's paths below the prefix,
 * from the previous one's on (galloping: the next name is usually a few paths further). A
 * damaged index (bounds are checked) finds nothing. */
static void index_lookup(const index_t *ix, char *key, size_t prefix_len, listing_t *l) {
    int bad = 0;
    Py_ssize_t lo = index_bound(ix, 0, ix->n, key, prefix_len, 0, 0, &bad);
    Py_ssize_t hi = index_bound(ix, lo, ix->n, key, prefix_len, 0, 1, &bad);
    /* every path in [lo, hi) starts with the prefix: the names alone are compared there */
    for (size_t i = 0; i < l->n && !bad && lo < hi; i++) {
        item_t *it = &l->items[i];
        if (it->err || !S_ISREG(it->mode) || it->name_len > 256) continue;
        memcpy(key + prefix_len, it->name, it->name_len);
        size_t klen = prefix_len + it->name_len;
        Py_ssize_t at = index_gallop(ix, lo, hi, key, klen, prefix_len, &bad);
        /* (a hit is compared in full: a damaged index, unsorted, is never taken at its word) */
        if (at < hi && !bad && index_cmp(ix, at, key, klen, 0, 0, &bad) == 0 && !bad) {
            it->found = ix->recs + 64 * at;
            at++;
        }
        lo = at;
    }
    if (bad)
        for (size_t i = 0; i < l->n; i++) l->items[i].found = NULL;
}

static int index_from(PyObject *cache, index_t *ix) {
    memset(ix, 0, sizeof(*ix));
    if (!PyTuple_Check(cache)) return 0;
    PyObject *paths, *offsets, *recs;
    if (!PyArg_ParseTuple(cache, "SSS;cache must be (paths, offsets, recs)", &paths, &offsets, &recs)) return -1;
    Py_ssize_t n = PyBytes_GET_SIZE(recs) / 64;
    if (PyBytes_GET_SIZE(recs) != 64 * n || PyBytes_GET_SIZE(offsets) != 8 * (n + 1)) {
        PyErr_SetString(PyExc_ValueError, "list_dir: damaged stat cache index");
        return -1;
    }
    ix->paths = (const unsigned char *)PyBytes_AS_STRING(paths);
    ix->paths_len = PyBytes_GET_SIZE(paths);
    ix->offsets = (const unsigned char *)PyBytes_AS_STRING(offsets);
    ix->recs = (const unsigned char *)PyBytes_AS_STRING(recs);
    ix->n = n;
    return 1;
}

static int is_ascii(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] >= 0x80) return 0;
    return 1;
}

/* Without the GIL, once the stat cache (an index, or none) was searched: whether the open
 * folder is still needed for keep_fd (see the contract): a regular file that is not a cache
 * hit (2), a symlink (8). */
static int still_needed(const listing_t *l, int keep_fd) {
    if (keep_fd & 1) return 1;
    for (size_t i = 0; i < l->n; i++) {
        const item_t *it = &l->items[i];
        if (it->err) continue;
        if ((keep_fd & 8) && S_ISLNK(it->mode)) return 1;
        if ((keep_fd & 2) && S_ISREG(it->mode)) {
            unsigned char stamp[32];
            put_stamp(stamp, it->size, it->mtime_ns, it->ctime_ns, it->ino);
            if (it->found == NULL || memcmp(it->found, stamp, 32) != 0) return 1;
        }
    }
    return 0;
}

static PyObject *fastscan_list_dir(PyObject *self, PyObject *args) {
    PyObject *path_bytes;
    PyObject *prefix, *cache, *modes;
    long long racy_limit;
    int keep_fd;
    if (!PyArg_ParseTuple(args, "O&UOLO!i:list_dir", PyUnicode_FSConverter, &path_bytes, &prefix, &cache, &racy_limit,
                          &PyDict_Type, &modes, &keep_fd))
        return NULL;
    if (cache != Py_None && !PyDict_Check(cache) && !PyTuple_Check(cache)) {
        PyErr_SetString(PyExc_TypeError, "cache must be a dict, a (paths, offsets, recs) index or None");
        Py_DECREF(path_bytes);
        return NULL;
    }
    index_t ix;
    int use_index = index_from(cache, &ix);
    if (use_index < 0) {
        Py_DECREF(path_bytes);
        return NULL;
    }
    PyObject *prefix_bytes = NULL;
    char *key = NULL;
    size_t prefix_len_b = 0;
    if (use_index) {
        prefix_bytes = PyUnicode_EncodeFSDefault(prefix);
        if (prefix_bytes == NULL) {
            Py_DECREF(path_bytes);
            return NULL;
        }
        prefix_len_b = (size_t)PyBytes_GET_SIZE(prefix_bytes);
        key = PyMem_Malloc(prefix_len_b + 256 + 1);
        if (key == NULL) {
            Py_DECREF(prefix_bytes);
            Py_DECREF(path_bytes);
            return PyErr_NoMemory();
        }
        memcpy(key, PyBytes_AS_STRING(prefix_bytes), prefix_len_b);
    }

    listing_t l;
    memset(&l, 0, sizeof(l));
    int open_err, kept = -1;
    const char *path = PyBytes_AS_STRING(path_bytes);
    int dict_cache = PyDict_Check(cache);
    Py_BEGIN_ALLOW_THREADS
    open_err = list_raw(path, keep_fd, &kept, &l);
    if (!open_err && !l.oom && use_index) index_lookup(&ix, key, prefix_len_b, &l);
    if (kept >= 0 && !l.oom && !dict_cache && !still_needed(&l, keep_fd)) {
        close(kept); /* nothing to read relative to it */
        kept = -1;
    }
    Py_END_ALLOW_THREADS
    if (open_err) {
        listing_free(&l);
        errno = open_err;
        PyErr_SetFromErrnoWithFilenameObject(PyExc_OSError, path_bytes);
        Py_DECREF(path_bytes);
        Py_XDECREF(prefix_bytes);
        PyMem_Free(key);
        return NULL;
    }
    Py_DECREF(path_bytes);
    if (l.oom) {
        listing_free(&l);
        if (kept >= 0) close(kept);
        Py_XDECREF(prefix_bytes);
        PyMem_Free(key);
        return PyErr_NoMemory();
    }

    PyObject *rels = NULL, *modes_out = NULL, *sizes = NULL, *recs = NULL, *racy = NULL, *errors = NULL;
    PyObject *result = NULL;
    Py_ssize_t hits = 0, nreg = 0, ok = 0, links = 0;
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
    int prefix_ascii = PyUnicode_IS_ASCII(prefix);
    mode_t last_mode = 0;
    PyObject *last_obj = NULL;
    Py_ssize_t next_reg = 0, next_other = nreg;
    for (size_t i = 0; i < l.n; i++) {
        item_t *it = &l.items[i];
        PyObject *rel = NULL;
        const char *raw = l.names + it->name_off;
        if (prefix_ascii && is_ascii(raw, it->name_len)) {
            /* the usual case, made in one piece: an ASCII name decodes to itself */
            rel = PyUnicode_New(prefix_len + (Py_ssize_t)it->name_len, 127);
            if (rel == NULL) goto done;
            memcpy(PyUnicode_1BYTE_DATA(rel), PyUnicode_1BYTE_DATA(prefix), (size_t)prefix_len);
            memcpy(PyUnicode_1BYTE_DATA(rel) + prefix_len, raw, it->name_len);
        } else {
            /* names as os.fsdecode gives them (surrogateescape for undecodable bytes) */
            PyObject *name = PyUnicode_DecodeFSDefaultAndSize(raw, (Py_ssize_t)it->name_len);
            if (name == NULL) goto done;
            if (prefix_len) {
                rel = PyUnicode_Concat(prefix, name);
                Py_DECREF(name);
                if (rel == NULL) goto done;
            } else {
                rel = name;
            }
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
        if ((keep_fd & 8) && S_ISLNK(it->mode)) links++;
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
        put_stamp(stamp, it->size, it->mtime_ns, it->ctime_ns, it->ino);
        PyObject *rec = NULL;
        if (reg) {
            if (it->mtime_ns >= racy_limit || it->ctime_ns >= racy_limit) {
                if (PyList_Append(racy, rel) < 0) goto done;
            }
            if (use_index) {
                const unsigned char *found = it->found;
                if (found != NULL && memcmp(found, stamp, 32) == 0) {
                    rec = PyBytes_FromStringAndSize((const char *)found, 64);
                    if (rec == NULL) goto done;
                    hits++;
                }
            } else if (cache != Py_None) {
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
    if (kept >= 0 && !(keep_fd & 1) && dict_cache && !((keep_fd & 2) && hits < nreg) && !links) {
        close(kept); /* nothing to read relative to it (a dict cache is searched here, with the GIL) */
        kept = -1;
    }
    result = Py_BuildValue("(OOOOnnOOi)", rels, modes_out, sizes, recs, nreg, hits, racy, errors, kept);
    if (result != NULL) kept = -1; /* the caller's now */
    if (result != NULL && l.read_err) {
        PyObject *pair = Py_BuildValue("(Oi)", Py_None, l.read_err);
        if (pair == NULL || PyList_Append(errors, pair) < 0) Py_CLEAR(result);
        Py_XDECREF(pair);
    }
done:
    if (kept >= 0) close(kept);
    Py_XDECREF(prefix_bytes);
    PyMem_Free(key);
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

/* make_entries(entry_type, paths, kind, modes, sizes, recs, stop, out) appends
 * entry_type(paths[i], kind, modes[i], sizes[i], None, recs[i]) for i < stop to out, without
 * running the class's __init__: entry_type must be a class whose __slots__ are exactly
 * (path, kind, st_mode, size, target, rec) and whose __init__ only assigns them (what
 * layerwise.context.entry.Entry is; checked here, and by the tests against the Python path).
 * Creating ~100k entries this way takes a fifth of the time of calling the class. */
static const char *ENTRY_SLOTS[6] = {"path", "kind", "st_mode", "size", "target", "rec"};

/* the last type entry_offsets checked (a reference kept: its address is not reused), with the
 * version tag of its dict then and its offsets: checking a type looks its six names up
 * (~4,700 instructions), once per folder listed (#17). Any change to the class's dict gives it
 * another version tag: it is checked again. Used with the GIL held. */
static PyTypeObject *checked_type = NULL;
static unsigned int checked_version = 0;
static Py_ssize_t checked_offsets[6];

static int entry_offsets(PyTypeObject *tp, Py_ssize_t offsets[6]) {
    if (tp == checked_type && PyType_Check(tp) && (tp->tp_flags & Py_TPFLAGS_VALID_VERSION_TAG) &&
        tp->tp_version_tag == checked_version) {
        memcpy(offsets, checked_offsets, sizeof checked_offsets);
        return 0;
    }
    if (!PyType_Check(tp) || tp->tp_itemsize != 0 || tp->tp_alloc == NULL) goto bad;
    for (int k = 0; k < 6; k++) {
        PyObject *descr = PyDict_GetItemString(tp->tp_dict, ENTRY_SLOTS[k]); /* borrowed */
        if (descr == NULL || !Py_IS_TYPE(descr, &PyMemberDescr_Type)) goto bad;
        PyMemberDef *m = ((PyMemberDescrObject *)descr)->d_member;
        if (m->type != T_OBJECT_EX || (m->flags & READONLY)) goto bad;
        offsets[k] = m->offset;
    }
    if (PyType_HasFeature(tp, Py_TPFLAGS_VALID_VERSION_TAG)) {
        Py_INCREF(tp);
        Py_XSETREF(checked_type, tp);
        checked_version = tp->tp_version_tag;
        memcpy(checked_offsets, offsets, sizeof checked_offsets);
    }
    return 0;
bad:
    PyErr_SetString(PyExc_TypeError, "make_entries: not a class with the slots of an Entry");
    return -1;
}

static PyObject *fastscan_make_entries(PyObject *self, PyObject *args) {
    PyTypeObject *tp;
    PyObject *paths, *kind, *modes, *sizes, *recs, *out;
    Py_ssize_t stop;
    if (!PyArg_ParseTuple(args, "O!O!UO!O!O!nO!:make_entries", &PyType_Type, &tp, &PyList_Type, &paths, &kind,
                          &PyList_Type, &modes, &PyList_Type, &sizes, &PyList_Type, &recs, &stop, &PyList_Type, &out))
        return NULL;
    Py_ssize_t offsets[6];
    if (entry_offsets(tp, offsets) < 0) return NULL;
    if (stop < 0 || stop > PyList_GET_SIZE(paths) || stop > PyList_GET_SIZE(modes) || stop > PyList_GET_SIZE(sizes) ||
        stop > PyList_GET_SIZE(recs)) {
        PyErr_SetString(PyExc_IndexError, "make_entries: stop out of range");
        return NULL;
    }
    for (Py_ssize_t i = 0; i < stop; i++) {
        PyObject *obj = tp->tp_alloc(tp, 0);
        if (obj == NULL) return NULL;
        PyObject *values[6] = {PyList_GET_ITEM(paths, i), kind, PyList_GET_ITEM(modes, i), PyList_GET_ITEM(sizes, i),
                               Py_None, PyList_GET_ITEM(recs, i)};
        for (int k = 0; k < 6; k++) {
            PyObject **slot = (PyObject **)((char *)obj + offsets[k]);
            Py_INCREF(values[k]);
            Py_XSETREF(*slot, values[k]);
        }
        int rc = PyList_Append(out, obj);
        Py_DECREF(obj);
        if (rc < 0) return NULL;
    }
    Py_RETURN_NONE;
}

/* ---- sha256 of files, through libcrypto ------------------------------------------------- */

typedef struct evp_md_st EVP_MD;
typedef struct evp_md_ctx_st EVP_MD_CTX;

static struct {
    int ready;
    const EVP_MD *md;
    EVP_MD_CTX *(*ctx_new)(void);
    void (*ctx_free)(EVP_MD_CTX *);
    int (*init)(EVP_MD_CTX *, const EVP_MD *, void *);
    int (*update)(EVP_MD_CTX *, const void *, size_t);
    int (*final)(EVP_MD_CTX *, unsigned char *, unsigned int *);
} crypto;

static PyObject *fastscan_sha256_setup(PyObject *self, PyObject *args) {
    PyObject *lib_bytes;
    if (!PyArg_ParseTuple(args, "O&:sha256_setup", PyUnicode_FSConverter, &lib_bytes)) return NULL;
    if (crypto.ready) {
        Py_DECREF(lib_bytes);
        Py_RETURN_TRUE;
    }
    void *h = dlopen(PyBytes_AS_STRING(lib_bytes), RTLD_NOW | RTLD_LOCAL);
    Py_DECREF(lib_bytes);
    if (h == NULL) Py_RETURN_FALSE;
    /* OpenSSL 3 fetches the algorithm once (EVP_sha256 would look it up on every init);
     * 1.1 has only EVP_sha256 */
    const EVP_MD *(*fetch)(void *, const char *, const char *) =
        (const EVP_MD *(*)(void *, const char *, const char *))dlsym(h, "EVP_MD_fetch");
    const EVP_MD *(*sha256)(void) = (const EVP_MD *(*)(void))dlsym(h, "EVP_sha256");
    crypto.ctx_new = (EVP_MD_CTX * (*)(void)) dlsym(h, "EVP_MD_CTX_new");
    crypto.ctx_free = (void (*)(EVP_MD_CTX *))dlsym(h, "EVP_MD_CTX_free");
    crypto.init = (int (*)(EVP_MD_CTX *, const EVP_MD *, void *))dlsym(h, "EVP_DigestInit_ex");
    crypto.update = (int (*)(EVP_MD_CTX *, const void *, size_t))dlsym(h, "EVP_DigestUpdate");
    crypto.final = (int (*)(EVP_MD_CTX *, unsigned char *, unsigned int *))dlsym(h, "EVP_DigestFinal_ex");
    crypto.md = fetch != NULL ? fetch(NULL, "SHA256", NULL) : NULL;
    if (crypto.md == NULL && sha256 != NULL) crypto.md = sha256();
    if (crypto.md == NULL || !crypto.ctx_new || !crypto.ctx_free || !crypto.init || !crypto.update || !crypto.final) {
        dlclose(h);
        memset(&crypto, 0, sizeof(crypto));
        Py_RETURN_FALSE;
    }
    crypto.ready = 1; /* the library stays loaded for the life of the process */
    Py_RETURN_TRUE;
}

typedef struct {
    Py_ssize_t index;
    const char *name;
    unsigned char stamp[32];
    unsigned char digest[32];
    int ok;
} hash_job_t;

/* Runs without the GIL: the fast path of walk.hash_file. 1 if the file read as the stamp
 * says and did not change meanwhile. */
static int hash_one(EVP_MD_CTX *ctx, int dfd, hash_job_t *job, unsigned char *buf, size_t cap) {
    int fd = openat(dfd, job->name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return 0;
    uint64_t size = get_le64(job->stamp), got = 0;
    int ok = crypto.init(ctx, crypto.md, NULL);
    for (;;) {
        /* one read past the expected end (size + 1) shows a file that grew */
        size_t want = size - got + 1 < cap ? (size_t)(size - got + 1) : cap;
        ssize_t n = read(fd, buf, want);
        if (n < 0) {
            if (errno == EINTR) continue;
            ok = 0;
            break;
        }
        if (n == 0) break;
        got += (uint64_t)n;
        if (got > size) {
            ok = 0;
            break;
        }
        if (ok) ok = crypto.update(ctx, buf, (size_t)n);
        /* a short read at the expected size is the end (as in walk.hash_file; had the file
         * grown meanwhile, its stamp below would differ) */
        if (got == size && (size_t)n < want) break;
    }
    struct stat st;
    unsigned int dlen = 0;
    if (ok && got == size && fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
        unsigned char now[32];
        put_stamp(now, (uint64_t)st.st_size, ns_of(st.st_mtim), ns_of(st.st_ctim), (uint64_t)st.st_ino);
        ok = memcmp(now, job->stamp, 32) == 0 && crypto.final(ctx, job->digest, &dlen) && dlen == 32;
    } else {
        ok = 0;
    }
    close(fd);
    return ok;
}

static PyObject *fastscan_hash_files(PyObject *self, PyObject *args) {
    int dfd;
    PyObject *rels, *recs, *skip;
    Py_ssize_t stop, strip;
    Py_buffer buf;
    if (!PyArg_ParseTuple(args, "iO!O!nnOw*:hash_files", &dfd, &PyList_Type, &rels, &PyList_Type, &recs, &stop, &strip,
                          &skip, &buf))
        return NULL;
    PyObject *result = NULL;
    hash_job_t *jobs = NULL;
    PyObject **names = NULL;
    Py_ssize_t njobs = 0;
    if (!crypto.ready) {
        PyErr_SetString(PyExc_RuntimeError, "hash_files: sha256_setup() has not succeeded");
        goto done;
    }
    if (buf.len < 65536) {
        PyErr_SetString(PyExc_ValueError, "hash_files: the buffer must hold at least 64 KiB");
        goto done;
    }
    if (stop < 0 || stop > PyList_GET_SIZE(rels) || stop > PyList_GET_SIZE(recs) || strip < 0) {
        PyErr_SetString(PyExc_IndexError, "hash_files: stop or strip out of range");
        goto done;
    }
    jobs = PyMem_Calloc(stop ? (size_t)stop : 1, sizeof(hash_job_t));
    names = PyMem_Calloc(stop ? (size_t)stop : 1, sizeof(PyObject *));
    if (jobs == NULL || names == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t i = 0; i < stop; i++) {
        PyObject *rec = PyList_GET_ITEM(recs, i);
        if (!PyBytes_Check(rec) || PyBytes_GET_SIZE(rec) != 32) continue;
        if (skip != Py_None) {
            PyObject *key = PyLong_FromSsize_t(i);
            if (key == NULL) goto done;
            int in = PySequence_Contains(skip, key);
            Py_DECREF(key);
            if (in < 0) goto done;
            if (in) continue;
        }
        PyObject *rel = PyList_GET_ITEM(rels, i);
        if (!PyUnicode_Check(rel) || PyUnicode_GET_LENGTH(rel) < strip) {
            PyErr_SetString(PyExc_TypeError, "hash_files: rels must be strings longer than strip");
            goto done;
        }
        PyObject *part = PyUnicode_Substring(rel, strip, PyUnicode_GET_LENGTH(rel));
        if (part == NULL) goto done;
        PyObject *name = PyUnicode_EncodeFSDefault(part);
        Py_DECREF(part);
        if (name == NULL) goto done;
        names[njobs] = name;
        jobs[njobs].index = i;
        jobs[njobs].name = PyBytes_AS_STRING(name);
        memcpy(jobs[njobs].stamp, PyBytes_AS_STRING(rec), 32);
        njobs++;
    }
    Py_ssize_t hashed = 0;
    unsigned long long nbytes = 0;
    int no_ctx = 0;
    if (njobs) {
        Py_BEGIN_ALLOW_THREADS
        EVP_MD_CTX *ctx = crypto.ctx_new();
        if (ctx == NULL) {
            no_ctx = 1;
        } else {
            int at = dfd < 0 ? AT_FDCWD : dfd;
            for (Py_ssize_t k = 0; k < njobs; k++) jobs[k].ok = hash_one(ctx, at, &jobs[k], buf.buf, (size_t)buf.len);
            crypto.ctx_free(ctx);
        }
        Py_END_ALLOW_THREADS
    }
    if (no_ctx) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t k = 0; k < njobs; k++) {
        if (!jobs[k].ok) continue;
        unsigned char rec[64];
        memcpy(rec, jobs[k].stamp, 32);
        memcpy(rec + 32, jobs[k].digest, 32);
        PyObject *obj = PyBytes_FromStringAndSize((const char *)rec, 64);
        if (obj == NULL) goto done;
        /* steals obj, releases the old stamp; fails only if the caller shrank the list */
        if (PyList_SetItem(recs, jobs[k].index, obj) < 0) goto done;
        hashed++;
        nbytes += get_le64(jobs[k].stamp);
    }
    result = Py_BuildValue("(nK)", hashed, nbytes);
done:
    if (names != NULL)
        for (Py_ssize_t k = 0; k < njobs; k++) Py_DECREF(names[k]);
    PyMem_Free(names);
    PyMem_Free(jobs);
    PyBuffer_Release(&buf);
    return result;
}

/* ---- the context report's per-entry work (layerwise.context.report) ---------------------
 *
 * report_pass(entries, paths, file_kind, exact, tails, heads, middles)
 *     -> (sent_files, sent_size, top, candidates, not_all_readable)
 *
 *   The one pass of report.build_report over a snapshot's entries (its Python twin is
 *   report._report_pass_py; tests compare them): files sent and their bytes, per top folder
 *   top[name] = [files, bytes] ("" for the files at the root), the indices of the entries
 *   whose name may matter to a finding (the name in the set exact, or the name in lower case
 *   ending with one of tails, starting with one of heads or holding one of middles), and of
 *   the files (kind
 *   file_kind) not readable by all (st_mode & 0o004 clear).
 *
 * json_lines(entries, start, stop, other_kind) -> str
 *
 *   report._file_json(e) of entries[start:stop], joined by ",\n    " (ASCII: json's
 *   ensure_ascii escaping of the strings).
 */

static PyObject *entry_attr(PyObject *e, PyTypeObject *tp, const Py_ssize_t offsets[6], int k) {
    /* a new reference to slot k of an entry (getattr when it is not of the Entry type) */
    if (tp != NULL && Py_TYPE(e) == tp) {
        PyObject *v = *(PyObject **)((char *)e + offsets[k]);
        if (v == NULL) {
            PyErr_Format(PyExc_AttributeError, "entry has no %s", ENTRY_SLOTS[k]);
            return NULL;
        }
        Py_INCREF(v);
        return v;
    }
    return PyObject_GetAttrString(e, ENTRY_SLOTS[k]);
}

static PyTypeObject *entry_type_of(PyObject *entries, Py_ssize_t offsets[6]) {
    /* the type of the first entry when it has the slots of an Entry, else NULL (getattr) */
    if (PyList_GET_SIZE(entries) == 0) return NULL;
    PyTypeObject *tp = Py_TYPE(PyList_GET_ITEM(entries, 0));
    if (entry_offsets(tp, offsets) < 0) {
        PyErr_Clear();
        return NULL;
    }
    return tp;
}

typedef struct {
    const char *s; /* ASCII data, or NULL when the string is not ASCII (never matches an ASCII name) */
    Py_ssize_t len;
} literal_t;

static int literals_of(PyObject *tuple, literal_t **out, Py_ssize_t *n) {
    *n = PyTuple_GET_SIZE(tuple);
    *out = PyMem_Calloc(*n ? *n : 1, sizeof(literal_t));
    if (*out == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t k = 0; k < *n; k++) {
        PyObject *t = PyTuple_GET_ITEM(tuple, k);
        if (!PyUnicode_Check(t)) {
            PyErr_SetString(PyExc_TypeError, "report_pass: tails and heads must be str");
            return -1;
        }
        if (PyUnicode_IS_ASCII(t)) {
            (*out)[k].s = (const char *)PyUnicode_1BYTE_DATA(t);
            (*out)[k].len = PyUnicode_GET_LENGTH(t);
        }
    }
    return 0;
}

static int lower_eq(const char *name, const char *lit, Py_ssize_t len) {
    for (Py_ssize_t k = 0; k < len; k++) {
        char c = name[k];
        if (c >= 'A' && c <= 'Z') c = (char)(c + 32);
        if (c != lit[k]) return 0;
    }
    return 1;
}

static int add_to_top(PyObject *top, PyObject *group, long long files, unsigned long long size) {
    PyObject *slot = PyDict_GetItemWithError(top, group); /* borrowed */
    PyObject *f = NULL, *s = NULL;
    if (slot == NULL) {
        if (PyErr_Occurred()) return -1;
        f = PyLong_FromLongLong(files);
        s = PyLong_FromUnsignedLongLong(size);
    } else {
        PyObject *add_f = PyLong_FromLongLong(files), *add_s = PyLong_FromUnsignedLongLong(size);
        if (add_f != NULL && add_s != NULL) {
            f = PyNumber_Add(PyList_GET_ITEM(slot, 0), add_f);
            s = PyNumber_Add(PyList_GET_ITEM(slot, 1), add_s);
        }
        Py_XDECREF(add_f);
        Py_XDECREF(add_s);
    }
    if (f == NULL || s == NULL) {
        Py_XDECREF(f);
        Py_XDECREF(s);
        return -1;
    }
    PyObject *pair = PyList_New(2);
    if (pair == NULL) {
        Py_DECREF(f);
        Py_DECREF(s);
        return -1;
    }
    PyList_SET_ITEM(pair, 0, f);
    PyList_SET_ITEM(pair, 1, s);
    int rc = PyDict_SetItem(top, group, pair);
    Py_DECREF(pair);
    return rc;
}

static int append_index(PyObject *list, Py_ssize_t i) {
    PyObject *v = PyLong_FromSsize_t(i);
    if (v == NULL) return -1;
    int rc = PyList_Append(list, v);
    Py_DECREF(v);
    return rc;
}

static int lower_has(const char *name, Py_ssize_t len, const literal_t *lit) {
    for (Py_ssize_t k = 0; k + lit->len <= len; k++)
        if (lower_eq(name + k, lit->s, lit->len)) return 1;
    return 0;
}

static PyObject *fastscan_report_pass(PyObject *self, PyObject *args) {
    PyObject *entries, *paths, *file_kind, *exact, *tails_t, *heads_t, *middles_t;
    if (!PyArg_ParseTuple(args, "O!O!UO!O!O!O!:report_pass", &PyList_Type, &entries, &PyList_Type, &paths, &file_kind,
                          &PyFrozenSet_Type, &exact, &PyTuple_Type, &tails_t, &PyTuple_Type, &heads_t, &PyTuple_Type,
                          &middles_t))
        return NULL;
    /* the first bytes of the ASCII names in exact (an ASCII name starting otherwise is not in
     * it: no lookup); any other name is looked up */
    unsigned char first[128] = {0};
    {
        PyObject *it = PyObject_GetIter(exact), *key;
        if (it == NULL) return NULL;
        while ((key = PyIter_Next(it)) != NULL) {
            if (!PyUnicode_Check(key) || !PyUnicode_IS_ASCII(key) || PyUnicode_GET_LENGTH(key) == 0)
                memset(first, 1, sizeof first);
            else
                first[PyUnicode_1BYTE_DATA(key)[0]] = 1;
            Py_DECREF(key);
        }
        Py_DECREF(it);
        if (PyErr_Occurred()) return NULL;
    }
    Py_ssize_t n = PyList_GET_SIZE(entries);
    if (PyList_GET_SIZE(paths) < n) n = PyList_GET_SIZE(paths); /* as zip() */
    Py_ssize_t offsets[6];
    PyTypeObject *tp = entry_type_of(entries, offsets);
    literal_t *tails = NULL, *heads = NULL, *middles = NULL;
    Py_ssize_t ntails, nheads, nmiddles;
    PyObject *top = NULL, *candidates = NULL, *unreadable = NULL, *group = NULL, *result = NULL;
    PyObject *empty = NULL;
    if (literals_of(tails_t, &tails, &ntails) < 0 || literals_of(heads_t, &heads, &nheads) < 0 ||
        literals_of(middles_t, &middles, &nmiddles) < 0)
        goto done;
    top = PyDict_New();
    candidates = PyList_New(0);
    unreadable = PyList_New(0);
    empty = PyUnicode_New(0, 0);
    if (top == NULL || candidates == NULL || unreadable == NULL || empty == NULL) goto done;
    group = empty; /* the current top folder: its name, and "name/" is the prefix of its paths */
    Py_INCREF(group);
    Py_ssize_t group_len = -1; /* -1: the root's files ("/" matches no path) */
    long long sent_files = 0, group_files = 0;
    unsigned long long sent_size = 0, group_size = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *e = PyList_GET_ITEM(entries, i), *path = PyList_GET_ITEM(paths, i);
        if (!PyUnicode_Check(path)) {
            PyErr_SetString(PyExc_TypeError, "report_pass: paths must be str");
            goto done;
        }
        Py_ssize_t plen = PyUnicode_GET_LENGTH(path);
        PyObject *kind = entry_attr(e, tp, offsets, 1);
        if (kind == NULL) goto done;
        int is_file = kind == file_kind;
        if (!is_file) {
            is_file = PyObject_RichCompareBool(kind, file_kind, Py_EQ);
            if (is_file < 0) {
                Py_DECREF(kind);
                goto done;
            }
        }
        Py_DECREF(kind);
        if (is_file) {
            int same = group_len >= 0 && plen > group_len && PyUnicode_READ_CHAR(path, group_len) == '/' &&
                       (PyUnicode_IS_ASCII(path) && PyUnicode_IS_ASCII(group)
                            ? memcmp(PyUnicode_1BYTE_DATA(path), PyUnicode_1BYTE_DATA(group), (size_t)group_len) == 0
                            : PyUnicode_Tailmatch(path, group, 0, group_len, -1) == 1);
            if (!same) {
                if (sent_files != group_files &&
                    add_to_top(top, group, sent_files - group_files, sent_size - group_size) < 0)
                    goto done;
                group_files = sent_files;
                group_size = sent_size;
                Py_ssize_t slash = PyUnicode_FindChar(path, '/', 0, plen, 1);
                if (slash == -2) goto done;
                Py_SETREF(group, slash >= 0 ? PyUnicode_Substring(path, 0, slash) : (Py_INCREF(empty), empty));
                if (group == NULL) goto done;
                group_len = slash; /* -1 at the root */
            }
            PyObject *size = entry_attr(e, tp, offsets, 3);
            if (size == NULL) goto done;
            unsigned long long sz = PyLong_AsUnsignedLongLong(size);
            Py_DECREF(size);
            if (sz == (unsigned long long)-1 && PyErr_Occurred()) goto done;
            sent_files += 1;
            sent_size += sz;
            PyObject *mode = entry_attr(e, tp, offsets, 2);
            if (mode == NULL) goto done;
            long m = PyLong_AsLong(mode);
            Py_DECREF(mode);
            if (m == -1 && PyErr_Occurred()) goto done;
            if (!(m & 04) && append_index(unreadable, i) < 0) goto done;
        }
        /* the name gate */
        int hit = 0;
        if (PyUnicode_IS_ASCII(path)) { /* on the path's own bytes: no name object unless needed */
            const char *pd = (const char *)PyUnicode_1BYTE_DATA(path);
            Py_ssize_t at = plen;
            while (at > 0 && pd[at - 1] != '/') at--;
            const char *s = pd + at;
            Py_ssize_t len = plen - at;
            if (len == 0 || first[(unsigned char)s[0]]) {
                PyObject *name = at ? PyUnicode_Substring(path, at, plen) : (Py_INCREF(path), path);
                if (name == NULL) goto done;
                hit = PySet_Contains(exact, name);
                Py_DECREF(name);
                if (hit < 0) goto done;
            }
            for (Py_ssize_t k = 0; k < ntails && !hit; k++)
                hit = tails[k].s != NULL && tails[k].len <= len && lower_eq(s + len - tails[k].len, tails[k].s, tails[k].len);
            for (Py_ssize_t k = 0; k < nheads && !hit; k++)
                hit = heads[k].s != NULL && heads[k].len <= len && lower_eq(s, heads[k].s, heads[k].len);
            for (Py_ssize_t k = 0; k < nmiddles && !hit; k++)
                hit = middles[k].s != NULL && lower_has(s, len, &middles[k]);
        } else { /* as Python does it: name in exact, name.lower().endswith(tails), ... */
            Py_ssize_t slash = PyUnicode_FindChar(path, '/', 0, plen, -1);
            if (slash == -2) goto done;
            PyObject *name = slash >= 0 ? PyUnicode_Substring(path, slash + 1, plen) : (Py_INCREF(path), path);
            if (name == NULL) goto done;
            hit = PySet_Contains(exact, name);
            if (hit == 0) {
                PyObject *lower = PyObject_CallMethod(name, "lower", NULL);
                if (lower == NULL) {
                    Py_DECREF(name);
                    goto done;
                }
                PyObject *r = PyObject_CallMethod(lower, "endswith", "(O)", tails_t);
                hit = r == NULL ? -1 : PyObject_IsTrue(r);
                Py_XDECREF(r);
                if (hit == 0) {
                    r = PyObject_CallMethod(lower, "startswith", "(O)", heads_t);
                    hit = r == NULL ? -1 : PyObject_IsTrue(r);
                    Py_XDECREF(r);
                }
                for (Py_ssize_t k = 0; k < nmiddles && hit == 0; k++)
                    hit = PySequence_Contains(lower, PyTuple_GET_ITEM(middles_t, k));
                Py_DECREF(lower);
            }
            Py_DECREF(name);
            if (hit < 0) goto done;
        }
        if (hit && append_index(candidates, i) < 0) goto done;
    }
    if (sent_files != group_files && add_to_top(top, group, sent_files - group_files, sent_size - group_size) < 0)
        goto done;
    result = Py_BuildValue("LKOOO", sent_files, sent_size, top, candidates, unreadable);
done:
    PyMem_Free(tails);
    PyMem_Free(heads);
    PyMem_Free(middles);
    Py_XDECREF(group);
    Py_XDECREF(empty);
    Py_XDECREF(top);
    Py_XDECREF(candidates);
    Py_XDECREF(unreadable);
    return result;
}

typedef struct {
    char *buf;
    size_t len, cap;
} out_t;

static int out_reserve(out_t *o, size_t more) {
    if (o->len + more <= o->cap) return 0;
    size_t cap = o->cap ? o->cap * 2 : 1 << 16;
    while (cap < o->len + more) cap *= 2;
    char *buf = PyMem_Realloc(o->buf, cap);
    if (buf == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    o->buf = buf;
    o->cap = cap;
    return 0;
}

static int out_put(out_t *o, const char *s, size_t len) {
    if (out_reserve(o, len) < 0) return -1;
    memcpy(o->buf + o->len, s, len);
    o->len += len;
    return 0;
}

static const char HEX[] = "0123456789abcdef";

static void put_u4(char *p, unsigned int c) {
    p[0] = '\\';
    p[1] = 'u';
    p[2] = HEX[(c >> 12) & 0xf];
    p[3] = HEX[(c >> 8) & 0xf];
    p[4] = HEX[(c >> 4) & 0xf];
    p[5] = HEX[c & 0xf];
}

#define JSON_PLAIN(c) ((c) >= ' ' && (c) <= '~' && (c) != '\\' && (c) != '"')

/* JSON_PLAIN of each byte, looked up once a character in the usual (ASCII) case */
static unsigned char json_plain[256];

static void json_plain_init(void) {
    for (int c = 0; c < 256; c++) json_plain[c] = JSON_PLAIN(c);
}

/* one character json.encoder.encode_basestring_ascii escapes, written at p: the end */
static char *json_escape(char *p, Py_UCS4 c) {
    *p++ = '\\';
    switch (c) {
    case '\\': *p++ = '\\'; return p;
    case '"': *p++ = '"'; return p;
    case '\b': *p++ = 'b'; return p;
    case '\f': *p++ = 'f'; return p;
    case '\n': *p++ = 'n'; return p;
    case '\r': *p++ = 'r'; return p;
    case '\t': *p++ = 't'; return p;
    }
    p--;
    if (c >= 0x10000) { /* a surrogate pair */
        Py_UCS4 v = c - 0x10000;
        put_u4(p, 0xd800 | ((v >> 10) & 0x3ff));
        put_u4(p + 6, 0xdc00 | (v & 0x3ff));
        return p + 12;
    }
    put_u4(p, c);
    return p + 6;
}

/* a JSON string as json.encoder.encode_basestring_ascii writes it */
static int out_json_str(out_t *o, PyObject *s) {
    if (!PyUnicode_Check(s)) {
        PyErr_SetString(PyExc_TypeError, "json_lines: a str is needed");
        return -1;
    }
    Py_ssize_t n = PyUnicode_GET_LENGTH(s);
    if (out_reserve(o, (size_t)n * 12 + 2) < 0) return -1; /* at most 12 bytes a character */
    char *p = o->buf + o->len;
    *p++ = '"';
    if (PyUnicode_IS_ASCII(s)) {
        const unsigned char *d = PyUnicode_1BYTE_DATA(s);
        Py_ssize_t k = 0;
        while (k < n) {
            Py_ssize_t run = k;
            while (run < n && json_plain[d[run]]) run++;
            memcpy(p, d + k, (size_t)(run - k));
            p += run - k;
            if (run == n) break;
            p = json_escape(p, d[run]);
            k = run + 1;
        }
    } else {
        int kind = PyUnicode_KIND(s);
        const void *data = PyUnicode_DATA(s);
        for (Py_ssize_t k = 0; k < n; k++) {
            Py_UCS4 c = PyUnicode_READ(kind, data, k);
            if (JSON_PLAIN(c))
                *p++ = (char)c;
            else
                p = json_escape(p, c);
        }
    }
    *p++ = '"';
    o->len = (size_t)(p - o->buf);
    return 0;
}

static const char *special_name(long mode) {
    switch (mode & S_IFMT) {
    case S_IFIFO: return "fifo";
    case S_IFSOCK: return "socket";
    case S_IFCHR: return "char-device";
    case S_IFBLK: return "block-device";
    default: return "unknown";
    }
}

/* ', "mode": "%04lo", "size": %lld, "digest": ' of (mode & 07777, size) at p (at most 72
 * bytes, no NUL): how many bytes */
static size_t fmt_mode_size(char *p, long mode, long long size) {
    static const char head[] = ", \"mode\": \"";
    static const char mid[] = "\", \"size\": ";
    static const char tail[] = ", \"digest\": ";
    char *start = p;
    memcpy(p, head, sizeof head - 1);
    p += sizeof head - 1;
    for (int shift = 9; shift >= 0; shift -= 3) *p++ = (char)('0' + ((mode >> shift) & 7));
    memcpy(p, mid, sizeof mid - 1);
    p += sizeof mid - 1;
    char digits[24];
    int n = 0;
    unsigned long long v = size < 0 ? 0ULL - (unsigned long long)size : (unsigned long long)size;
    do {
        digits[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    if (size < 0) *p++ = '-';
    while (n) *p++ = digits[--n];
    memcpy(p, tail, sizeof tail - 1);
    p += sizeof tail - 1;
    return (size_t)(p - start);
}

static PyObject *fastscan_json_lines(PyObject *self, PyObject *args) {
    PyObject *entries, *other_kind;
    Py_ssize_t start, stop;
    if (!PyArg_ParseTuple(args, "O!nnU:json_lines", &PyList_Type, &entries, &start, &stop, &other_kind)) return NULL;
    if (start < 0) start = 0;
    if (stop > PyList_GET_SIZE(entries)) stop = PyList_GET_SIZE(entries);
    Py_ssize_t offsets[6];
    PyTypeObject *tp = entry_type_of(entries, offsets);
    out_t o = {NULL, 0, 0};
    PyObject *result = NULL;
    char num[96];
    PyObject *last_kind = NULL;
    int last_other = 0;
    for (Py_ssize_t i = start; i < stop; i++) {
        PyObject *e = PyList_GET_ITEM(entries, i);
        PyObject *path = NULL, *kind = NULL, *mode = NULL, *size = NULL, *target = NULL, *rec = NULL;
        int ok = 0;
        if (i > start && out_put(&o, ",\n    ", 6) < 0) goto done;
        path = entry_attr(e, tp, offsets, 0);
        kind = path ? entry_attr(e, tp, offsets, 1) : NULL;
        mode = kind ? entry_attr(e, tp, offsets, 2) : NULL;
        size = mode ? entry_attr(e, tp, offsets, 3) : NULL;
        target = size ? entry_attr(e, tp, offsets, 4) : NULL;
        rec = target ? entry_attr(e, tp, offsets, 5) : NULL;
        if (rec == NULL) goto entry_done;
        long m = PyLong_AsLong(mode);
        if (m == -1 && PyErr_Occurred()) goto entry_done;
        long long sz = PyLong_AsLongLong(size);
        if (sz == -1 && PyErr_Occurred()) goto entry_done;
        if (!PyBytes_Check(rec)) {
            PyErr_SetString(PyExc_TypeError, "json_lines: rec must be bytes");
            goto entry_done;
        }
        if (out_put(&o, "{\"path\": ", 9) < 0 || out_json_str(&o, path) < 0 || out_put(&o, ", \"type\": ", 10) < 0 ||
            out_json_str(&o, kind) < 0)
            goto entry_done;
        if (out_reserve(&o, 80) < 0) goto entry_done;
        o.len += fmt_mode_size(o.buf + o.len, m, sz);
        if (PyBytes_GET_SIZE(rec) == 64) {
            if (out_reserve(&o, 7 + 64 + 2) < 0) goto entry_done;
            const unsigned char *d = (const unsigned char *)PyBytes_AS_STRING(rec) + 32;
            char *p = o.buf + o.len;
            memcpy(p, "\"sha256:", 8);
            p += 8;
            for (int k = 0; k < 32; k++) {
                *p++ = HEX[d[k] >> 4];
                *p++ = HEX[d[k] & 0xf];
            }
            *p++ = '"';
            o.len = (size_t)(p - o.buf);
        } else if (out_put(&o, "null", 4) < 0) {
            goto entry_done;
        }
        if (target != Py_None && (out_put(&o, ", \"target\": ", 12) < 0 || out_json_str(&o, target) < 0))
            goto entry_done;
        if (kind != last_kind) { /* (entries share a few kind objects: compared once each) */
            Py_INCREF(kind);
            Py_XSETREF(last_kind, kind);
            last_other = kind == other_kind || PyUnicode_Compare(kind, other_kind) == 0;
        }
        int other = last_other;
        if (other) {
            const char *sp = special_name(m);
            int len = snprintf(num, sizeof num, ", \"special\": \"%s\"", sp);
            if (out_put(&o, num, (size_t)len) < 0) goto entry_done;
        }
        if (out_put(&o, "}", 1) < 0) goto entry_done;
        ok = 1;
    entry_done:
        Py_XDECREF(path);
        Py_XDECREF(kind);
        Py_XDECREF(mode);
        Py_XDECREF(size);
        Py_XDECREF(target);
        Py_XDECREF(rec);
        if (!ok) goto done;
    }
    result = PyUnicode_New((Py_ssize_t)o.len, 127);
    if (result != NULL && o.len) memcpy(PyUnicode_1BYTE_DATA(result), o.buf, o.len);
done:
    Py_XDECREF(last_kind);
    PyMem_Free(o.buf);
    return result;
}

/* ends_with_any(paths, suffixes) -> list of the indices i of paths whose paths[i].endswith(
 * suffixes) (a tuple of str), in order: the walk's ignore screen of a folder when each pattern
 * that may match there has a required suffix (#17: through map(str.endswith, ...) it was
 * about half of the walk's Python at 100,000 files). ASCII strings are compared as bytes, the
 * others by PyUnicode_Tailmatch, which str.endswith is. */
static PyObject *fastscan_ends_with_any(PyObject *self, PyObject *args) {
    PyObject *paths, *suffixes;
    if (!PyArg_ParseTuple(args, "O!O!:ends_with_any", &PyList_Type, &paths, &PyTuple_Type, &suffixes)) return NULL;
    Py_ssize_t ns = PyTuple_GET_SIZE(suffixes);
    int ascii = 1;
    for (Py_ssize_t k = 0; k < ns; k++) {
        PyObject *suffix = PyTuple_GET_ITEM(suffixes, k);
        if (!PyUnicode_Check(suffix)) {
            PyErr_SetString(PyExc_TypeError, "ends_with_any: suffixes must be str");
            return NULL;
        }
        ascii &= PyUnicode_IS_ASCII(suffix) != 0;
    }
    PyObject *hits = PyList_New(0);
    if (hits == NULL) return NULL;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(paths); i++) {
        PyObject *path = PyList_GET_ITEM(paths, i);
        if (!PyUnicode_Check(path)) {
            PyErr_SetString(PyExc_TypeError, "ends_with_any: paths must be str");
            goto fail;
        }
        int hit = 0;
        if (ascii && PyUnicode_IS_ASCII(path)) {
            const char *data = (const char *)PyUnicode_1BYTE_DATA(path);
            Py_ssize_t len = PyUnicode_GET_LENGTH(path);
            for (Py_ssize_t k = 0; k < ns && !hit; k++) {
                PyObject *suffix = PyTuple_GET_ITEM(suffixes, k);
                Py_ssize_t sl = PyUnicode_GET_LENGTH(suffix);
                hit = sl <= len && memcmp(data + len - sl, PyUnicode_1BYTE_DATA(suffix), (size_t)sl) == 0;
            }
        } else {
            for (Py_ssize_t k = 0; k < ns && !hit; k++) {
                Py_ssize_t r = PyUnicode_Tailmatch(path, PyTuple_GET_ITEM(suffixes, k), 0, PY_SSIZE_T_MAX, 1);
                if (r < 0) goto fail;
                hit = r != 0;
            }
        }
        if (hit) {
            PyObject *index = PyLong_FromSsize_t(i);
            int rc = index == NULL ? -1 : PyList_Append(hits, index);
            Py_XDECREF(index);
            if (rc < 0) goto fail;
        }
    }
    return hits;
fail:
    Py_DECREF(hits);
    return NULL;
}

/* set_openat2(on) -> bool: whether list_dir's place check (keep_fd & 4) may use openat2, as
 * by default where the kernel has it; the previous setting. For the tests of the fallback
 * that kernels without openat2 take (a readlink of /proc/self/fd per folder). */
static PyObject *fastscan_set_openat2(PyObject *self, PyObject *args) {
    int on;
    if (!PyArg_ParseTuple(args, "p:set_openat2", &on)) return NULL;
    int was = use_openat2;
#ifdef HAVE_OPENAT2
    use_openat2 = on;
#endif
    return PyBool_FromLong(was);
}

static PyMethodDef fastscan_methods[] = {
    {"set_openat2", fastscan_set_openat2, METH_VARARGS,
     "set_openat2(on) -> bool: whether the place check may use openat2 (the previous setting; for tests)"},
    {"report_pass", fastscan_report_pass, METH_VARARGS,
     "report_pass(entries, paths, file_kind, exact, tails, heads, middles) -> (sent_files, sent_size, top, candidates, not_all_readable)"},
    {"json_lines", fastscan_json_lines, METH_VARARGS,
     "json_lines(entries, start, stop, other_kind) -> str: the report's JSON lines of entries[start:stop]"},
    {"ends_with_any", fastscan_ends_with_any, METH_VARARGS,
     "ends_with_any(paths, suffixes) -> the indices of the paths that end with one of the suffixes"},
    {"make_entries", fastscan_make_entries, METH_VARARGS,
     "make_entries(entry_type, paths, kind, modes, sizes, recs, stop, out): append entries for paths[:stop] to out"},
    {"list_dir", fastscan_list_dir, METH_VARARGS,
     "list_dir(path, prefix, cache, racy_limit, modes, keep_fd) -> (rels, modes, sizes, recs, nreg, hits, racy, errors, fd)"},
    {"sha256_setup", fastscan_sha256_setup, METH_VARARGS,
     "sha256_setup(library) -> bool: load SHA-256 from this libcrypto for hash_files"},
    {"hash_files", fastscan_hash_files, METH_VARARGS,
     "hash_files(dfd, rels, recs, stop, strip, skip, buffer) -> (hashed, bytes): sha256 the files in place"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef fastscan_module = {
    PyModuleDef_HEAD_INIT, "_fastscan", "One folder of a build-context snapshot, listed and stat'ed in C.", -1,
    fastscan_methods,
};

PyMODINIT_FUNC PyInit__fastscan(void) {
    json_plain_init();
    return PyModule_Create(&fastscan_module);
}
