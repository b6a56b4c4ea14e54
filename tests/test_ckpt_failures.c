/* Checkpoint failure safety:
 *   kill    a writer SIGKILLed between its complete temporary file and the rename leaves the
 *           previous checkpoint and latest.h5 valid; the next write removes its temporary file;
 *   bad     missing / non-HDF5 / truncated / wrong-layout files give messages naming the file and
 *           what is wrong;
 *   enospc  a full disk (a 64 KiB tmpfs) fails with "No space left on device", the previous
 *           checkpoint and latest.h5 intact and no temporary file left (exit 77 when mounting
 *           is not permitted).
 * usage: test_ckpt_failures kill|bad|enospc DIR */
#include <fcntl.h>
#include <hdf5.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <time.h>

#include "test_ckpt_common.h"

#define SKIP 77

/* Reads path and checks it equals the state tc_make_state(epoch, features, seed) makes. */
static int valid_as(const char *path, int epoch, int features, uint64_t seed, char *err, size_t errlen)
{
    vkdp_ckpt_state r, want;
    int rc = vkdp_ckpt_read(path, &r, err, errlen);
    tc_make_state(&want, epoch, features, seed);
    int ok = rc == 0 && tc_states_equal(&r, &want);
    if (rc == 0 && !ok)
        snprintf(err, errlen, "%s reads but differs from the epoch-%d state", path, epoch);
    vkdp_ckpt_state_free(&r);
    vkdp_ckpt_state_free(&want);
    return ok;
}

static void test_kill(const char *dir)
{
    tc_fresh_dir(dir);
    char path[4400], err[2048], target[256], latest[4400];
    snprintf(latest, sizeof latest, "%s/latest.h5", dir);
    vkdp_ckpt_state s;
    tc_make_state(&s, 1, 1280, 11);
    int rc = vkdp_ckpt_write(dir, &s, 0, path, sizeof path, err, sizeof err);
    TC_CHECK(rc == 0, "epoch 1 written %s", rc ? err : path);
    vkdp_ckpt_state_free(&s);

    int pipefd[2];
    if (pipe(pipefd) < 0)
        VKDP_FATAL("pipe: %s", strerror(errno));
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0)
        VKDP_FATAL("fork: %s", strerror(errno));
    if (pid == 0) {
        /* The writer: its stderr announces when the temporary file is complete. */
        close(pipefd[0]);
        dup2(pipefd[1], 2);
        setenv("VKDP_CKPT_TEST_SLEEP", "60", 1);
        vkdp_ckpt_state c;
        tc_make_state(&c, 2, 1280, 12);
        vkdp_ckpt_write(dir, &c, 0, NULL, 0, err, sizeof err);
        _exit(3); /* never reached in time: the parent kills us during the sleep */
    }
    close(pipefd[1]);
    char buf[512];
    size_t got = 0;
    ssize_t n;
    while (got < sizeof buf - 1 && (n = read(pipefd[0], buf + got, sizeof buf - 1 - got)) > 0) {
        got += (size_t)n;
        buf[got] = 0;
        if (strchr(buf, '\n'))
            break;
    }
    buf[got] = 0;
    close(pipefd[0]);
    TC_CHECK(strstr(buf, "VKDP_CKPT_TEST_SLEEP") != NULL, "writer reached the test hook: %.*s",
             (int)strcspn(buf, "\n"), buf);
    int tmp_during = tc_count_prefix(dir, ".tmp-ckpt-e0002");
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    TC_CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "writer killed by SIGKILL");
    TC_CHECK(tmp_during == 1, "its complete temporary file existed when it was killed");
    snprintf(path, sizeof path, "%s/ckpt-e0002-s000000184.h5", dir);
    TC_CHECK(!tc_exists(path), "no epoch-2 checkpoint appeared");
    tc_latest_target(dir, target, sizeof target);
    TC_CHECK(!strcmp(target, "ckpt-e0001-s000000092.h5"), "latest.h5 still -> %s", target);
    int ok = valid_as(latest, 1, 1280, 11, err, sizeof err);
    TC_CHECK(ok, "latest.h5 reads as the epoch-1 state %s", ok ? "" : err);

    /* The next writer (another pid) cleans up the dead writer's temporary file, but not one of
     * a writer on another host sharing the directory (pid 1 there means nothing here). */
    char other[4400];
    snprintf(other, sizeof other, "%s/.tmp-ckpt-e0009-s000000999.h5.other-host.example.%d", dir,
             (int)getpid() + 1);
    FILE *f = fopen(other, "w");
    if (!f || fclose(f) != 0)
        VKDP_FATAL("cannot create %s", other);
    tc_make_state(&s, 2, 1280, 12);
    rc = vkdp_ckpt_write(dir, &s, 0, path, sizeof path, err, sizeof err);
    vkdp_ckpt_state_free(&s);
    TC_CHECK(rc == 0 && tc_count_prefix(dir, ".tmp-ckpt-e0002") == 0,
             "next write succeeds and removes the stale temporary file %s", rc ? err : "");
    TC_CHECK(tc_exists(other) && tc_count_prefix(dir, ".tmp-") == 1,
             "another host's temporary file is left alone");
    ok = valid_as(latest, 2, 1280, 12, err, sizeof err);
    TC_CHECK(ok, "latest.h5 now reads as the epoch-2 state %s", ok ? "" : err);
}

static void drop_state(hid_t f, const void *arg)
{
    (void)arg;
    if (H5Ldelete(f, "/state", H5P_DEFAULT) < 0)
        VKDP_FATAL("H5Ldelete /state");
}
static void drop_image_size(hid_t f, const void *arg)
{
    (void)arg;
    if (H5Adelete_by_name(f, "/config", "image_size", H5P_DEFAULT) < 0)
        VKDP_FATAL("H5Adelete image_size");
}
static void string_epoch(hid_t f, const void *arg)
{
    (void)arg;
    if (H5Adelete_by_name(f, "/state", "epoch", H5P_DEFAULT) < 0)
        VKDP_FATAL("H5Adelete epoch");
    hid_t g = H5Gopen2(f, "/state", H5P_DEFAULT), t = H5Tcopy(H5T_C_S1), sp = H5Screate(H5S_SCALAR);
    H5Tset_size(t, 4);
    hid_t a = H5Acreate2(g, "epoch", t, sp, H5P_DEFAULT, H5P_DEFAULT);
    if (a < 0 || H5Awrite(a, t, "two") < 0)
        VKDP_FATAL("rewrite /state epoch");
    H5Aclose(a);
    H5Sclose(sp);
    H5Tclose(t);
    H5Gclose(g);
}
static void wrong_bias(hid_t f, const void *arg)
{
    (void)arg;
    if (H5Ldelete(f, "/head/pred/pred/bias:0", H5P_DEFAULT) < 0)
        VKDP_FATAL("H5Ldelete bias");
    hsize_t d[1] = {4};
    float z[4] = {0};
    hid_t sp = H5Screate_simple(1, d, NULL);
    hid_t ds = H5Dcreate2(f, "/head/pred/pred/bias:0", H5T_IEEE_F32LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (ds < 0 || H5Dwrite(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, z) < 0)
        VKDP_FATAL("rewrite bias");
    H5Dclose(ds);
    H5Sclose(sp);
}
static void drop_adam_kernel(hid_t f, const void *arg)
{
    (void)arg;
    if (H5Ldelete(f, "/optimizer/m/pred/pred/kernel:0", H5P_DEFAULT) < 0)
        VKDP_FATAL("H5Ldelete m kernel");
}
static void drop_metric_field(hid_t f, const void *arg)
{
    (void)arg;
    /* An epoch table without val_accuracy. */
    if (H5Ldelete(f, "/metrics/epoch", H5P_DEFAULT) < 0)
        VKDP_FATAL("H5Ldelete /metrics/epoch");
    hid_t t = H5Tcreate(H5T_COMPOUND, 16);
    H5Tinsert(t, "epoch", 0, H5T_NATIVE_INT64);
    H5Tinsert(t, "loss", 8, H5T_NATIVE_DOUBLE);
    hsize_t d[1] = {1};
    hid_t sp = H5Screate_simple(1, d, NULL);
    hid_t ds = H5Dcreate2(f, "/metrics/epoch", t, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    double row[2] = {0, 1};
    if (ds < 0 || H5Dwrite(ds, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, row) < 0)
        VKDP_FATAL("rewrite /metrics/epoch");
    H5Dclose(ds);
    H5Sclose(sp);
    H5Tclose(t);
}

static void test_bad(const char *dir)
{
    tc_fresh_dir(dir);
    char good[4400], err[2048], p[4400];
    vkdp_ckpt_state s;
    tc_make_state(&s, 2, 1280, 21);
    int rc = vkdp_ckpt_write(dir, &s, 0, good, sizeof good, err, sizeof err);
    vkdp_ckpt_state_free(&s);
    TC_CHECK(rc == 0, "good checkpoint written %s", rc ? err : good);
    struct stat st;
    if (rc || stat(good, &st) < 0)
        return;

    snprintf(p, sizeof p, "%s/missing.h5", dir);
    tc_expect_error(p, "missing file", "No such file or directory", NULL);
    snprintf(p, sizeof p, "%s/notes.h5", dir);
    FILE *f = fopen(p, "w");
    if (!f || fputs("this is not HDF5\n", f) < 0 || fclose(f) != 0)
        VKDP_FATAL("cannot write %s", p);
    tc_expect_error(p, "text file", "not an HDF5 file", NULL);
    tc_expect_error(dir, "directory", "not a regular file", NULL);
    snprintf(p, sizeof p, "%s/half.h5", dir);
    tc_copy_file(good, p, (long)st.st_size / 2);
    tc_expect_error(p, "truncated to half", "truncated", NULL);
    snprintf(p, sizeof p, "%s/head-only.h5", dir);
    tc_copy_file(good, p, 1024);
    tc_expect_error(p, "truncated to 1 KiB", "truncated", NULL);

    tc_make_variant(good, dir, "no-state.h5", p, sizeof p, drop_state, NULL);
    tc_expect_error(p, "missing group", "missing group /state", NULL);
    tc_make_variant(good, dir, "no-image-size.h5", p, sizeof p, drop_image_size, NULL);
    tc_expect_error(p, "missing attribute", "missing attribute 'image_size' of /config", NULL);
    tc_make_variant(good, dir, "string-epoch.h5", p, sizeof p, string_epoch, NULL);
    tc_expect_error(p, "attribute of the wrong type", "attribute 'epoch' of /state has the wrong type", NULL);
    tc_make_variant(good, dir, "bias4.h5", p, sizeof p, wrong_bias, NULL);
    tc_expect_error(p, "wrong shape", "tensor /head/pred/pred/bias:0 has shape [4], expected [5]",
                 "one per class");
    tc_make_variant(good, dir, "no-adam-kernel.h5", p, sizeof p, drop_adam_kernel, NULL);
    tc_expect_error(p, "missing tensor", "missing tensor /optimizer/m/pred/pred/kernel:0", NULL);
    tc_make_variant(good, dir, "old-metrics.h5", p, sizeof p, drop_metric_field, NULL);
    tc_expect_error(p, "table without a field", "table /metrics/epoch has no numeric field 'accuracy'", NULL);
}

static void test_enospc(const char *dir)
{
    char mnt[4300], path[4400], err[2048], target[256], latest[4400];
    snprintf(mnt, sizeof mnt, "%s/mnt", dir);
    umount2(mnt, MNT_DETACH); /* left mounted by an aborted earlier run, if any */
    tc_fresh_dir(dir);
    if (mkdir(mnt, 0755) < 0)
        VKDP_FATAL("mkdir %s: %s", mnt, strerror(errno));
    if (mount("tmpfs", mnt, "tmpfs", 0, "size=64k") < 0) {
        printf("SKIP: cannot mount a 64 KiB tmpfs on %s (%s): the disk-full test needs root and "
               "mount permission\n", mnt, strerror(errno));
        exit(SKIP);
    }
    snprintf(latest, sizeof latest, "%s/latest.h5", mnt);
    /* Small enough to fit: 16 features. */
    vkdp_ckpt_state s;
    tc_make_state(&s, 1, 16, 31);
    int rc = vkdp_ckpt_write(mnt, &s, 0, path, sizeof path, err, sizeof err);
    vkdp_ckpt_state_free(&s);
    TC_CHECK(rc == 0, "small checkpoint fits in 64 KiB %s", rc ? err : path);
    /* 1280 features: ~170 KB, cannot fit. */
    tc_make_state(&s, 2, 1280, 32);
    rc = vkdp_ckpt_write(mnt, &s, 0, path, sizeof path, err, sizeof err);
    vkdp_ckpt_state_free(&s);
    TC_CHECK(rc < 0 && tc_contains(err, "No space left on device", "disk full") &&
                 strstr(err, "ckpt-e0002-s000000184.h5"),
             "big checkpoint fails: %s", rc < 0 ? err : "write succeeded");
    TC_CHECK(tc_count_prefix(mnt, ".tmp-") == 0, "no temporary file left");
    TC_CHECK(tc_count_prefix(mnt, "ckpt-e") == 1, "only the previous checkpoint is there");
    tc_latest_target(mnt, target, sizeof target);
    TC_CHECK(!strcmp(target, "ckpt-e0001-s000000092.h5"), "latest.h5 still -> %s", target);
    int ok = valid_as(latest, 1, 16, 31, err, sizeof err);
    TC_CHECK(ok, "latest.h5 reads as the previous state %s", ok ? "" : err);
    if (umount(mnt) < 0)
        VKDP_FATAL("umount %s: %s", mnt, strerror(errno));
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: test_ckpt_failures kill|bad|enospc DIR\n");
        return 2;
    }
    if (!strcmp(argv[1], "kill"))
        test_kill(argv[2]);
    else if (!strcmp(argv[1], "bad"))
        test_bad(argv[2]);
    else if (!strcmp(argv[1], "enospc"))
        test_enospc(argv[2]);
    else {
        fprintf(stderr, "test_ckpt_failures: unknown test '%s'\n", argv[1]);
        return 2;
    }
    printf("%s: %d failure(s)\n", argv[1], tc_failures);
    return tc_failures ? 1 : 0;
}
