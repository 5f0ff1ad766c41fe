/* replay.c - Runs fuzz inputs through a target without libFuzzer: every
 * file named on the command line, or found in a directory named there.
 * Exit 0 when every input ran (a crash, a sanitizer report or a leak ends
 * the process on its own); 2 when no input was found.
 *
 * Single-threaded (the target may start its own threads). */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

/* Weak: a target without an initializer gets this one. */
__attribute__((weak)) int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    unsigned char *buf;
    long n;

    if (!f)
        return -1;
    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
        fseek(f, 0, SEEK_SET) != 0 || !(buf = malloc((size_t)n + 1))) {
        fclose(f);
        return -1;
    }
    if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        fclose(f);
        return -1;
    }
    fclose(f);
    LLVMFuzzerTestOneInput(buf, (size_t)n);
    free(buf);
    return 0;
}

static int str_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
    int ran = 0;

    LLVMFuzzerInitialize(&argc, &argv);
    for (int i = 1; i < argc; i++) {
        struct stat st;
        DIR *d;
        struct dirent *e;
        char **names = NULL, path[4096];
        size_t n = 0;

        if (stat(argv[i], &st) != 0) {
            fprintf(stderr, "replay: %s: no such file\n", argv[i]);
            return 2;
        }
        if (!S_ISDIR(st.st_mode)) {
            ran += run_file(argv[i]) == 0;
            continue;
        }
        if (!(d = opendir(argv[i])))
            return 2;
        while ((e = readdir(d)) != NULL) {
            char **p;

            if (e->d_name[0] == '.' ||
                !(p = realloc(names, (n + 1) * sizeof(*p))))
                continue;
            names = p;
            names[n++] = strdup(e->d_name);
        }
        closedir(d);
        qsort(names, n, sizeof(*names), str_cmp);
        for (size_t k = 0; k < n; k++) {
            snprintf(path, sizeof(path), "%s/%s", argv[i], names[k]);
            if (run_file(path) == 0) {
                printf("ok %s\n", names[k]);
                ran++;
            }
            free(names[k]);
        }
        free(names);
    }
    printf("replay: %d input(s)\n", ran);
    return ran > 0 ? 0 : 2;
}
