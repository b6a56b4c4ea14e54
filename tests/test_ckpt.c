/* Checkpoint write/read: bitwise round trip, metrics growing across writes, latest.h5, --keep
 * pruning, --resume resolution and the compatibility check's messages.
 *
 * usage: test_ckpt roundtrip|keep|resolve|compat DIR
 * `roundtrip` leaves DIR/latest.h5 (3 epochs) for the h5dump / h5py / trainer info / plot tests. */
#include "test_ckpt_common.h"

static void test_roundtrip(const char *dir)
{
    tc_fresh_dir(dir);
    char path[4400], err[2048], target[256];
    for (int epoch = 1; epoch <= 3; epoch++) {
        vkdp_ckpt_state s, r;
        tc_make_state(&s, epoch, 1280, 1000 + (uint64_t)epoch);
        int rc = vkdp_ckpt_write(dir, &s, 0, path, sizeof path, err, sizeof err);
        TC_CHECK(rc == 0, "write epoch %d -> %s %s", epoch, rc == 0 ? path : "", rc ? err : "");
        rc = vkdp_ckpt_read(path, &r, err, sizeof err);
        TC_CHECK(rc == 0, "read back %s %s", path, rc ? err : "");
        TC_CHECK(rc == 0 && tc_states_equal(&s, &r), "epoch %d: read state bitwise equal to written", epoch);
        TC_CHECK(rc == 0 && r.nepochs_m == epoch && r.nsteps_m == 92 * epoch,
                 "metrics tables hold %d epoch rows (want %d) and %lld step rows (want %d)",
                 r.nepochs_m, epoch, (long long)r.nsteps_m, 92 * epoch);
        tc_latest_target(dir, target, sizeof target);
        TC_CHECK(!strcmp(target, strrchr(path, '/') + 1), "latest.h5 -> %s (relative)", target);
        vkdp_ckpt_state_free(&r);
        vkdp_ckpt_state_free(&s);
    }
    /* Reading through the symlink, and the earlier files still there (keep = 0). */
    vkdp_ckpt_state r, want;
    snprintf(path, sizeof path, "%s/latest.h5", dir);
    int rc = vkdp_ckpt_read(path, &r, err, sizeof err);
    tc_make_state(&want, 3, 1280, 1003);
    TC_CHECK(rc == 0 && tc_states_equal(&want, &r), "latest.h5 reads as the epoch-3 state");
    vkdp_ckpt_state_free(&r);
    vkdp_ckpt_state_free(&want);
    TC_CHECK(tc_count_prefix(dir, "ckpt-e") == 3, "keep=0 kept all %d checkpoints",
             tc_count_prefix(dir, "ckpt-e"));
    TC_CHECK(tc_count_prefix(dir, ".tmp-") == 0, "no temporary files left");

    /* A trainable backbone travels in /backbone, its Adam slots alongside. */
    char bdir[4300];
    snprintf(bdir, sizeof bdir, "%s/backbone", dir);
    vkdp_ckpt_state s;
    tc_make_state(&s, 1, 64, 77);
    s.backbone_trainable = 1;
    s.nbackbone = 1;
    s.backbone = vkdp_xcalloc(1, sizeof *s.backbone);
    tc_tensor(&s.backbone[0], "stem_conv/stem_conv/kernel:0", 2, 27, 32, 78);
    s.backbone[0].rank = 4;
    s.backbone[0].shape[0] = 3;
    s.backbone[0].shape[1] = 3;
    s.backbone[0].shape[2] = 3;
    s.backbone[0].shape[3] = 32;
    s.adam_m = vkdp_xrealloc(s.adam_m, 5 * sizeof *s.adam_m);
    s.adam_v = vkdp_xrealloc(s.adam_v, 5 * sizeof *s.adam_v);
    s.adam_m[4] = s.backbone[0];
    s.adam_m[4].data = vkdp_xmalloc(864 * sizeof(float));
    test_fill_uniform(s.adam_m[4].data, 864, 79, 0, 1);
    s.adam_v[4] = s.adam_m[4];
    s.adam_v[4].data = vkdp_xmalloc(864 * sizeof(float));
    test_fill_uniform(s.adam_v[4].data, 864, 80, 0, 1);
    s.nslots = 5;
    /* with the optional settings a head-only run leaves out */
    s.augment = 1;
    s.fine_tune_epochs = 2;
    s.fine_tune_lr = 1e-5;
    s.drop_connect_rate = 0; /* not its default (0.2): written, and read back as 0 */
    s.drop_connect_all = 1;
    snprintf(s.fine_tune_from, sizeof s.fine_tune_from, "block6a");
    rc = vkdp_ckpt_write(bdir, &s, 0, path, sizeof path, err, sizeof err);
    TC_CHECK(rc == 0, "write with trainable backbone %s", rc ? err : "");
    rc = rc ? rc : vkdp_ckpt_read(path, &r, err, sizeof err);
    TC_CHECK(rc == 0 && tc_states_equal(&s, &r) && r.nbackbone == 1,
             "trainable backbone round trip bitwise equal %s", rc ? err : "");
    if (rc == 0)
        vkdp_ckpt_state_free(&r);
    vkdp_ckpt_state_free(&s);

    /* An invalid state is refused before anything touches the directory. */
    char idir[4300];
    snprintf(idir, sizeof idir, "%s/invalid", dir);
    tc_make_state(&s, 1, 16, 5);
    s.adam_v[2].shape[1] = 4;
    rc = vkdp_ckpt_write(idir, &s, 0, path, sizeof path, err, sizeof err);
    TC_CHECK(rc < 0 && tc_contains(err, "pred/pred/kernel:0", "shape") && !tc_exists(idir),
             "mis-shaped Adam slot refused: %s", err);
    vkdp_ckpt_state_free(&s);
}

static void test_keep(const char *dir)
{
    tc_fresh_dir(dir);
    char path[4400], err[2048], target[256], other[4400];
    snprintf(other, sizeof other, "%s/ckpt-notes.txt", dir);
    FILE *f = fopen(other, "w");
    if (!f || fclose(f) != 0)
        VKDP_FATAL("cannot create %s", other);
    for (int epoch = 1; epoch <= 5; epoch++) {
        vkdp_ckpt_state s;
        tc_make_state(&s, epoch, 32, (uint64_t)epoch);
        int rc = vkdp_ckpt_write(dir, &s, 2, path, sizeof path, err, sizeof err);
        TC_CHECK(rc == 0, "write epoch %d with keep=2 %s", epoch, rc ? err : "");
        int n = tc_count_prefix(dir, "ckpt-e");
        TC_CHECK(n == (epoch < 2 ? epoch : 2), "after epoch %d: %d checkpoints", epoch, n);
        vkdp_ckpt_state_free(&s);
    }
    snprintf(path, sizeof path, "%s/ckpt-e0004-s000000368.h5", dir);
    TC_CHECK(tc_exists(path), "ckpt-e0004-s000000368.h5 kept");
    snprintf(path, sizeof path, "%s/ckpt-e0005-s000000460.h5", dir);
    TC_CHECK(tc_exists(path), "ckpt-e0005-s000000460.h5 kept");
    tc_latest_target(dir, target, sizeof target);
    TC_CHECK(!strcmp(target, "ckpt-e0005-s000000460.h5"), "latest.h5 -> %s", target);
    TC_CHECK(tc_exists(other), "unrelated file ckpt-notes.txt untouched");

    /* A resumed run that writes an older step never deletes the one it writes. */
    vkdp_ckpt_state s;
    tc_make_state(&s, 1, 32, 1);
    int rc = vkdp_ckpt_write(dir, &s, 1, path, sizeof path, err, sizeof err);
    tc_latest_target(dir, target, sizeof target);
    TC_CHECK(rc == 0 && tc_exists(path) && tc_count_prefix(dir, "ckpt-e") == 1 &&
                 !strcmp(target, "ckpt-e0001-s000000092.h5"),
             "keep=1 writing an older step keeps only it (%s), latest -> %s", path, target);
    vkdp_ckpt_state_free(&s);
}

static void test_resolve(const char *dir)
{
    tc_fresh_dir(dir);
    char buf[4400], err[2048], path[4400];
    int rc = vkdp_ckpt_resolve("auto", dir, buf, sizeof buf, err, sizeof err);
    TC_CHECK(rc == 0, "auto without latest.h5: start fresh (rc %d)", rc);
    TC_CHECK(vkdp_ckpt_resolve(NULL, dir, buf, sizeof buf, err, sizeof err) == 0 &&
                 vkdp_ckpt_resolve("none", dir, buf, sizeof buf, err, sizeof err) == 0,
             "NULL / none: start fresh");
    vkdp_ckpt_state s;
    tc_make_state(&s, 2, 16, 9);
    rc = vkdp_ckpt_write(dir, &s, 0, path, sizeof path, err, sizeof err);
    vkdp_ckpt_state_free(&s);
    rc = rc ? rc : vkdp_ckpt_resolve("auto", dir, buf, sizeof buf, err, sizeof err);
    TC_CHECK(rc == 1 && strstr(buf, "/latest.h5"), "auto with latest.h5 -> %s", buf);
    rc = vkdp_ckpt_resolve(path, dir, buf, sizeof buf, err, sizeof err);
    TC_CHECK(rc == 1 && !strcmp(buf, path), "explicit file -> %s", buf);
    char missing[4400];
    snprintf(missing, sizeof missing, "%s/nope.h5", dir);
    rc = vkdp_ckpt_resolve(missing, dir, buf, sizeof buf, err, sizeof err);
    TC_CHECK(rc == -1 && tc_contains(err, "nope.h5", "No such file"), "missing explicit file: %s", err);
    if (unlink(path) < 0)
        VKDP_FATAL("unlink %s: %s", path, strerror(errno));
    rc = vkdp_ckpt_resolve("auto", dir, buf, sizeof buf, err, sizeof err);
    TC_CHECK(rc == -1 && tc_contains(err, "latest.h5", "remove it"), "dangling latest.h5: %s", err);
}

static void test_compat(void)
{
    vkdp_ckpt_state ck, cmd;
    char err[2048];
    tc_make_state(&ck, 1, 32, 1);
    tc_make_state(&cmd, 0, 32, 2);
    TC_CHECK(vkdp_ckpt_check_compatible(&ck, &cmd, err, sizeof err) == 0, "same config: compatible");

    free(cmd.class_names[2]);
    cmd.class_names[2] = vkdp_xstrdup("lilies");
    int rc = vkdp_ckpt_check_compatible(&ck, &cmd, err, sizeof err);
    TC_CHECK(rc < 0 && !strcmp(err, "checkpoint has classes [daisy,dandelion,roses,sunflowers,tulips] "
                                     "but --data has [daisy,dandelion,lilies,sunflowers,tulips]"),
             "different class: %s", err);
    cmd.nclasses = 2;
    rc = vkdp_ckpt_check_compatible(&ck, &cmd, err, sizeof err);
    TC_CHECK(rc < 0 && strstr(err, "but --data has [daisy,dandelion]"), "fewer classes: %s", err);
    cmd.nclasses = 5;
    free(cmd.class_names[2]);
    cmd.class_names[2] = vkdp_xstrdup("roses");

    cmd.image_size = 224;
    rc = vkdp_ckpt_check_compatible(&ck, &cmd, err, sizeof err);
    TC_CHECK(rc < 0 && !strcmp(err, "checkpoint has image size 180 but --image-size is 224"),
             "image size: %s", err);
    cmd.image_size = 180;

    snprintf(cmd.weights_sha256, sizeof cmd.weights_sha256, "%064d", 8);
    rc = vkdp_ckpt_check_compatible(&ck, &cmd, err, sizeof err);
    TC_CHECK(rc < 0 && tc_contains(err, ck.weights_sha256, cmd.weights_sha256) &&
                 strstr(err, "--weights /weights/efficientnetb0_notop.h5"),
             "weights SHA-256: %s", err);
    snprintf(cmd.weights_sha256, sizeof cmd.weights_sha256, "%s", ck.weights_sha256);

    cmd.weights[4].shape[0] = 64;
    rc = vkdp_ckpt_check_compatible(&ck, &cmd, err, sizeof err);
    TC_CHECK(rc < 0 && !strcmp(err, "checkpoint tensor pred/pred/kernel:0 has shape [32,5] but "
                                     "this run's has [64,5]"),
             "head shape: %s", err);
    vkdp_ckpt_state_free(&ck);
    vkdp_ckpt_state_free(&cmd);
}

int main(int argc, char **argv)
{
    if (argc < 2 || (strcmp(argv[1], "compat") && argc < 3)) {
        fprintf(stderr, "usage: test_ckpt roundtrip|keep|resolve DIR | compat\n");
        return 2;
    }
    if (!strcmp(argv[1], "roundtrip"))
        test_roundtrip(argv[2]);
    else if (!strcmp(argv[1], "keep"))
        test_keep(argv[2]);
    else if (!strcmp(argv[1], "resolve"))
        test_resolve(argv[2]);
    else if (!strcmp(argv[1], "compat"))
        test_compat();
    else {
        fprintf(stderr, "test_ckpt: unknown test '%s'\n", argv[1]);
        return 2;
    }
    printf("%s: %d failure(s)\n", argv[1], tc_failures);
    return tc_failures ? 1 : 0;
}
