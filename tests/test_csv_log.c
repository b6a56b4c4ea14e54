/* The CSV log's file handling without training (fast, and under the sanitizers): a fresh start
 * truncates, appends are Keras rows, a resume repairs a damaged log (duplicate, missing and
 * unfinished epochs, a torn last line) from the checkpoint's rows and leaves a consistent one
 * untouched, and a foreign file is refused (exit 1) without being modified.
 * usage: test_csv_log SCRATCH_DIR */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "vkdp/core/common.h"
#include "vkdp/train/csv_log.h"

static void put_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    if (!f || fputs(text, f) < 0 || fclose(f) != 0)
        VKDP_FATAL("cannot write %s: %s", path, vkdp_errno_str());
}

static char *get_file(const char *path)
{
    static char buf[8192];
    FILE *f = fopen(path, "rb");
    if (!f)
        VKDP_FATAL("cannot read %s: %s", path, vkdp_errno_str());
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    if (ferror(f) || fclose(f) != 0)
        VKDP_FATAL("cannot read %s", path);
    buf[n] = '\0';
    return buf;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s SCRATCH_DIR\n", argv[0]);
        return 2;
    }
    if (mkdir(argv[1], 0755) != 0 && errno != EEXIST)
        VKDP_FATAL("mkdir %s: %s", argv[1], vkdp_errno_str());
    char path[4096];
    snprintf(path, sizeof path, "%s/log.csv", argv[1]);
    vkdp_epoch_metrics m[3] = {{1, 1.25, 0.5, 2.0, 0.25, 0, 0, 0},
                               {2, 0.75, 0.625, 1.5, 0.5, 0, 0, 0},
                               {3, 0.1, 1.0, NAN, 0.75, 0, 0, 0}};
    const char *full = "epoch,accuracy,loss,val_accuracy,val_loss\r\n"
                       "0,0.5,1.25,0.25,2.0\r\n1,0.625,0.75,0.5,1.5\r\n2,1.0,0.1,0.75,nan\r\n";

    put_file(path, "old junk\n");
    vkdp_csv_log_start(path, 1, 0, NULL, 0);
    for (int i = 0; i < 3; i++)
        vkdp_csv_log_append(path, 1, &m[i]);
    CHECK(!strcmp(get_file(path), full), "fresh log:\n%s", get_file(path));

    /* consistent log, resumed after 2 epochs: the row of epoch 2 is dropped, the rest kept */
    vkdp_csv_log_start(path, 1, 1, m, 2);
    vkdp_csv_log_append(path, 1, &m[2]);
    CHECK(!strcmp(get_file(path), full), "resumed log:\n%s", get_file(path));

    /* epoch 0 twice, epoch 1 missing, epoch 2 present (unfinished), a torn line; kept rows keep
     * their own text (LF endings here) */
    put_file(path, "epoch,accuracy,loss,val_accuracy,val_loss\n0,0.5,1.25,0.25,2\n0,9,9,9,9\n2,1,1,1,1\n1,0.6");
    vkdp_csv_log_start(path, 1, 1, m, 2);
    CHECK(!strcmp(get_file(path), "epoch,accuracy,loss,val_accuracy,val_loss\n0,0.5,1.25,0.25,2\n"
                                  "1,0.625,0.75,0.5,1.5\r\n"),
          "repaired log:\n%s", get_file(path));

    /* a resume without a log, and without a validation split */
    snprintf(path, sizeof path, "%s/new.csv", argv[1]);
    unlink(path);
    vkdp_csv_log_start(path, 0, 1, m, 1);
    CHECK(!strcmp(get_file(path), "epoch,accuracy,loss\r\n0,0.5,1.25\r\n"), "new log:\n%s", get_file(path));

    /* refused: another header, and a row without an epoch number */
    const char *bad[2] = {"step,loss\r\n0,1.0\r\n", "epoch,accuracy,loss\r\nx,1,2\r\n"};
    for (int i = 0; i < 2; i++) {
        put_file(path, bad[i]);
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0) {
            vkdp_csv_log_start(path, 0, 1, m, 1);
            _exit(0);
        }
        int st = 0;
        if (pid < 0 || waitpid(pid, &st, 0) != pid)
            VKDP_FATAL("fork/waitpid: %s", vkdp_errno_str());
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 1, "bad log %d: status %d", i, st);
        CHECK(!strcmp(get_file(path), bad[i]), "bad log %d was modified", i);
    }
    printf("%s csv_log\n", failures ? "FAIL" : "ok");
    return failures ? 1 : 0;
}
