/* wr_tool.h - Reports of dynamic analysis tools (valgrind's memcheck,
 * helgrind and drd; the address, undefined-behaviour, leak and thread
 * sanitizers), read into one list of errors and turned into history
 * events for the memory_safety and data_race checks.
 *
 * Two inputs:
 *   valgrind  the XML of --xml=yes --xml-file=DIR/vg.%p.xml (protocol
 *             version 4), one file per process. A file cut short (the
 *             process was killed, or valgrind died) still yields every
 *             error written in full before the cut; the file is then
 *             counted as incomplete. libxml2 does the parsing.
 *   sanitizer the text a sanitizer writes to stderr (the gateway.log the
 *             runner keeps) or to its log_path files: "==PID==ERROR:
 *             AddressSanitizer: ...", "WARNING: ThreadSanitizer: ...",
 *             "FILE:LINE:COL: runtime error: ...", "Direct leak of ...".
 *             Every other line is ignored, so a log that mixes the
 *             gateway's own output with the reports reads as well.
 *
 * Each error becomes one history event (wr_tool_history_add):
 *   {"src":"harness","event":"tool.error","ns":NS,"tool":"memcheck",
 *    "kind":"InvalidRead","class":"memory","what":"Invalid read of size 8",
 *    "pid":2226,"tid":4,"fatal":true,"leak":false,"bytes":0,"blocks":0,
 *    "top":"gw_registry_rekey (gw_registry.c:269)",
 *    "frames":["gw_registry_rekey (gw_registry.c:269)",...],
 *    "aux":[{"what":"Address 0x0 is not stack'd, ...","frames":[...]}]}
 * and each report one summary event:
 *   {"src":"harness","event":"tool.report","ns":NS,"tool":"memcheck",
 *    "errors":1,"leaks":2,"leaked_bytes":2144,"leaked_blocks":2,
 *    "files":1,"complete":true,"signal":11,"checks_memory":true,
 *    "checks_races":false}
 * (checks_*: whether the tool looks for such errors at all, so that a
 * report without any proves their absence.)
 * "class" is what the checks read (wr_tool_class_name): memory, leak
 * (definitely lost), minor-leak (possibly or indirectly lost, still
 * reachable), race, thread (lock order and threading API misuse), other.
 *
 * Times: neither valgrind's XML nor a sanitizer's text carries the
 * CLOCK_MONOTONIC time the history is merged on, so the caller gives the
 * ns of every event of a report. Use the ns of the target's exit (the
 * target.exit event): a tool writes fatal errors just before the process
 * dies and leaks as it exits, so the gateway events just before that ns
 * are the ones around the error. Errors of a process that lived on are
 * placed there too; their stacks, not their place, tell where they arose.
 *
 * A report is plain data owned by its caller: one thread builds and reads
 * it. The functions that parse may run on several threads at once
 * (libxml2 is initialised once, through pthread_once). */
#ifndef WR_TOOL_H
#define WR_TOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "history/wr_history.h"

typedef enum {
    WR_TOOL_NONE,
    WR_TOOL_MEMCHECK,
    WR_TOOL_HELGRIND,
    WR_TOOL_DRD,
    WR_TOOL_ASAN,
    WR_TOOL_UBSAN,
    WR_TOOL_LSAN,
    WR_TOOL_TSAN,
    WR_TOOL__COUNT
} wr_tool_t;

/* What an error means for the checks. */
typedef enum {
    WR_TOOL_CLASS_OTHER,
    WR_TOOL_CLASS_MEMORY,     /* invalid access or free, uninitialised
                                 value, undefined behaviour, fatal signal */
    WR_TOOL_CLASS_LEAK,       /* definitely lost (LSan: direct leak) */
    WR_TOOL_CLASS_MINOR_LEAK, /* possibly or indirectly lost, reachable */
    WR_TOOL_CLASS_RACE,       /* a data race */
    WR_TOOL_CLASS_THREAD,     /* lock order, threading API misuse */
} wr_tool_class_t;

#define WR_TOOL_FRAMES  8 /* frames kept of each stack */
#define WR_TOOL_AUX_MAX 4 /* auxiliary stacks kept of each error */

/* One frame; strings are NULL when the tool did not say. */
typedef struct {
    char *fn;   /* function */
    char *file; /* source file as the tool names it */
    int line;   /* 0 when unknown */
    char *obj;  /* binary or shared object */
} wr_tool_frame_t;

typedef struct {
    char *what; /* the line that introduces the stack ("freed by thread T0
                   here", "This conflicts with a previous write ...");
                   NULL for the main stack */
    size_t nframes;
    wr_tool_frame_t frames[WR_TOOL_FRAMES]; /* innermost first */
} wr_tool_stack_t;

typedef struct {
    wr_tool_t tool;        /* the tool that reported it */
    char *kind;            /* "InvalidRead", "Race", "heap-use-after-free",
                              "SEGV", "data race", "runtime error", ... */
    char *what;            /* one line, never NULL */
    wr_tool_class_t klass; /* what it means for the checks */
    long pid;              /* -1 when unknown */
    long tid;              /* tool's thread number; -1 when unknown */
    bool fatal;            /* the process died of it */
    bool leak;             /* a leak record */
    uint64_t bytes;        /* leaks: bytes lost (valgrind: leakedbytes,
                              which counts the blocks only reachable
                              through this one) */
    uint64_t blocks;       /* leaks: blocks lost */
    wr_tool_stack_t stack; /* where it happened */
    size_t naux;
    wr_tool_stack_t aux[WR_TOOL_AUX_MAX]; /* the other stacks, in order */
} wr_tool_error_t;

typedef struct {
    wr_tool_t tool;          /* the tool that ran; see wr_tool_report_init */
    wr_tool_error_t *errors; /* in the order read */
    size_t nerrors, cap;
    size_t files;           /* files or logs read */
    size_t incomplete;      /* of them, cut short */
    size_t nonleak;         /* errors that are not leak records */
    size_t leaks;           /* definitely-lost records */
    uint64_t leaked_bytes;  /* sum of bytes of definitely-lost records */
    uint64_t leaked_blocks; /* sum of their blocks */
    int signal;             /* first fatal signal a tool saw; 0: none */
} wr_tool_report_t;

/* "memcheck", ... ; "none" for WR_TOOL_NONE, NULL out of range. */
const char *wr_tool_name(wr_tool_t t);

/* The tool called name, or -1. */
int wr_tool_from_name(const char *name);

/* Whether t looks for memory errors (memcheck, asan), or for races
 * (helgrind, drd, tsan): what a report of t with no error proves. */
bool wr_tool_checks_memory(wr_tool_t t);
bool wr_tool_checks_races(wr_tool_t t);

/* Whether t is a valgrind tool (the gateway runs under valgrind), not a
 * sanitizer build. */
bool wr_tool_is_valgrind(wr_tool_t t);

/* "memory", "leak", "minor-leak", "race", "thread", "other". */
const char *wr_tool_class_name(wr_tool_class_t c);

/* The class of an error of kind reported by t. */
wr_tool_class_t wr_tool_classify(wr_tool_t t, const char *kind);

/* Starts an empty report of tool (WR_TOOL_NONE: learnt from the first
 * valgrind file, or from the first sanitizer error; a sanitizer log with
 * no error cannot tell, so give the tool of the build). */
void wr_tool_report_init(wr_tool_report_t *r, wr_tool_t tool);

/* Frees what r holds; r is then empty, as after wr_tool_report_init with
 * its tool. */
void wr_tool_report_free(wr_tool_report_t *r);

/* Reads one valgrind XML file (or the len bytes at buf) and appends its
 * errors to r. A file cut short, empty included, is read up to the last
 * complete error and counted in r->incomplete. Returns 0; -EINVAL when it is not valgrind XML (nothing
 * is added), -EPROTONOSUPPORT for a protocol version before 4, -ENOMEM,
 * or the negative errno of opening or reading the file. */
int wr_tool_read_valgrind(wr_tool_report_t *r, const char *path);
int wr_tool_read_valgrind_mem(wr_tool_report_t *r, const char *buf, size_t len);

/* Reads every file that the glob(3) pattern matches (e.g.
 * "DIR/vg.*.xml"), in name order. Returns the number of files read (0
 * when none matched), or the first negative errno; the files before it
 * stay read. */
long wr_tool_read_valgrind_glob(wr_tool_report_t *r, const char *pattern);

/* Reads a sanitizer log (or the len bytes at buf). Errors take the pid
 * their report names ("==PID==", "pid=N"); those that name none (UBSan's
 * runtime errors) take pid, -1 for unknown: the runner knows the
 * gateway's. From a file, pid is the suffix of a log_path file
 * "NAME.PID", else -1. A report begun but never ended with its SUMMARY
 * line counts the log incomplete.
 * Returns 0, -ENOMEM, or the negative errno of opening or reading. */
int wr_tool_read_sanitizer(wr_tool_report_t *r, const char *path);
int wr_tool_read_sanitizer_mem(wr_tool_report_t *r, const char *buf, size_t len,
                               long pid);

/* Whether every file of r was read to its end. */
bool wr_tool_complete(const wr_tool_report_t *r);

/* The first frame of s worth naming: with a function, outside the tool's
 * own preloaded objects and interceptors; else the first frame; NULL for
 * an empty stack. */
const wr_tool_frame_t *wr_tool_top_frame(const wr_tool_stack_t *s);

/* Writes f as "fn (file:line)", "file:line" (no function), "fn (obj)" or
 * "??? (obj)" into buf. Returns buf. */
char *wr_tool_frame_text(const wr_tool_frame_t *f, char *buf, size_t len);

/* The tool.error event of e, and the tool.report event of r, as one JSON
 * object at ns (see above). Return a malloc'd string, NULL when out of
 * memory. */
char *wr_tool_error_json(const wr_tool_error_t *e, int64_t ns);
char *wr_tool_report_json(const wr_tool_report_t *r, int64_t ns);

/* Adds one tool.error event per error of r and then its tool.report, all
 * at ns, to h (as the harness's). Sort h afterwards. Returns 0, or the
 * first negative errno of wr_history_add_line (the events before it stay
 * added). */
int wr_tool_history_add(wr_history_t *h, const wr_tool_report_t *r, int64_t ns);

#endif
