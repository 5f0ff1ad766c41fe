/* uaf.c - a use after free and a leak, for sanitizer report fixtures. */
#include <stdlib.h>
#include <string.h>

static char *keep;

static int use(const char *p)
{
    return p[3];
}

int main(int argc, char **argv)
{
    char *p = malloc(16);
    strcpy(p, "hello");
    keep = malloc(40); /* still reachable */
    keep = NULL;       /* now definitely lost */
    free(p);
    if (argc > 1)
        return use(p); /* heap-use-after-free */
    return 0;
}
