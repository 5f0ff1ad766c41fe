/* gw_annotate.h - Happens-before annotations for helgrind, which does not
 * model C11 atomics.
 *
 * A reference count dropped with atomic_fetch_sub orders everything the
 * threads that dropped a reference did before the free() of the thread
 * that dropped the last one. Helgrind cannot see that order and reports
 * those accesses as races with free(). GW_REF_RELEASE(obj) just before the
 * decrement and GW_REF_ACQUIRE(obj) just before the free state it, so the
 * tool checks the rest of the code instead of our being silenced. (drd
 * does not report these; ThreadSanitizer understands the atomics.)
 *
 * They are valgrind client requests: a few instructions and no call when
 * the program is not under valgrind, and nothing at all when valgrind's
 * headers (Debian: valgrind) are missing at build time. */
#ifndef GW_ANNOTATE_H
#define GW_ANNOTATE_H

#if defined(__has_include)
#if __has_include(<valgrind/helgrind.h>)
#include <valgrind/helgrind.h>
#define GW_REF_RELEASE(obj) ANNOTATE_HAPPENS_BEFORE(obj)
#define GW_REF_ACQUIRE(obj)                                                    \
    do {                                                                       \
        ANNOTATE_HAPPENS_AFTER(obj);                                           \
        ANNOTATE_HAPPENS_BEFORE_FORGET_ALL(obj);                               \
    } while (0)
#endif
#endif

#ifndef GW_REF_RELEASE
#define GW_REF_RELEASE(obj) ((void)(obj))
#define GW_REF_ACQUIRE(obj) ((void)(obj))
#endif

#endif
