/* EfficientNetB0's block table, Keras' correct_pad and output sides, and the tensor list (names,
 * shapes, the 4,049,571-parameter total of Keras' EfficientNetB0(include_top=False)). */
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "vkdp/core/common.h"
#include "vkdp/model/effnet.h"
#include "vkdp/model/effnet_arch.h"


int main(void)
{
    /* correct_pad, written out from keras.applications.imagenet_utils.correct_pad */
    for (int n = 1; n <= 300; n++)
        for (int k = 1; k <= 7; k += 2) {
            int adjust = 1 - n % 2, before, after;
            vkdp_correct_pad(n, k, &before, &after);
            CHECK(before == k / 2 - adjust && after == k / 2, "n=%d k=%d: (%d,%d)", n, k, before, after);
            /* TF "valid": out = floor((padded - k) / 2) + 1 */
            int out = (n + before + after - k) / 2 + 1;
            CHECK(vkdp_conv_out_side(n, k, 2) == out, "n=%d k=%d", n, k);
            CHECK(vkdp_conv_out_side(n, k, 1) == n, "n=%d k=%d", n, k);
            /* stride-2 with correct_pad halves every side, rounding up, like "same" */
            CHECK(out == (n + 1) / 2, "n=%d k=%d: out %d", n, k, out);
        }
    int b, a;
    vkdp_correct_pad(224, 3, &b, &a);
    CHECK(b == 0 && a == 1, "224,k3");
    vkdp_correct_pad(112, 5, &b, &a);
    CHECK(b == 1 && a == 2, "112,k5");
    vkdp_correct_pad(189, 3, &b, &a);
    CHECK(b == 1 && a == 1, "189,k3");
    vkdp_correct_pad(95, 5, &b, &a);
    CHECK(b == 2 && a == 2, "95,k5");

    vkdp_effnet net;
    memset(&net, 0, sizeof net);
    vkdp_effnet_init_arch(&net);
    static const char *names[16] = {"block1a", "block2a", "block2b", "block3a", "block3b", "block4a",
                                    "block4b", "block4c", "block5a", "block5b", "block5c", "block6a",
                                    "block6b", "block6c", "block6d", "block7a"};
    /* kernel stride expand in out exp se residual: from Keras' summary of EfficientNetB0 */
    static const int want[16][8] = {
        {3, 1, 1, 32, 16, 32, 8, 0},      {3, 2, 6, 16, 24, 96, 4, 0},      {3, 1, 6, 24, 24, 144, 6, 1},
        {5, 2, 6, 24, 40, 144, 6, 0},     {5, 1, 6, 40, 40, 240, 10, 1},    {3, 2, 6, 40, 80, 240, 10, 0},
        {3, 1, 6, 80, 80, 480, 20, 1},    {3, 1, 6, 80, 80, 480, 20, 1},    {5, 1, 6, 80, 112, 480, 20, 0},
        {5, 1, 6, 112, 112, 672, 28, 1},  {5, 1, 6, 112, 112, 672, 28, 1},  {5, 2, 6, 112, 192, 672, 28, 0},
        {5, 1, 6, 192, 192, 1152, 48, 1}, {5, 1, 6, 192, 192, 1152, 48, 1}, {5, 1, 6, 192, 192, 1152, 48, 1},
        {3, 1, 6, 192, 320, 1152, 48, 0},
    };
    CHECK(net.nblocks == 16, "%d blocks", net.nblocks);
    int side = vkdp_conv_out_side(224, 3, 2);
    for (int i = 0; i < net.nblocks && i < 16; i++) {
        const vkdp_mbconv *m = &net.blocks[i];
        int got[8] = {m->kernel, m->stride, m->expand, m->in_ch, m->out_ch, m->exp_ch, m->se_ch, m->has_residual};
        CHECK(!strcmp(m->name, names[i]), "block %d named %s", i, m->name);
        CHECK(!memcmp(got, want[i], sizeof got), "%s", m->name);
        CHECK(m->has_expand == (m->expand != 1), "%s", m->name);
        CHECK(!m->expand_w && !m->dw_w && !m->project_w, "%s: pointers must stay NULL", m->name);
        side = vkdp_conv_out_side(side, m->kernel, m->stride);
    }
    CHECK(side == 7, "224 input ends at %d, Keras at 7", side);

    vkdp_effnet_tensor_spec specs[VKDP_EFFNET_MAX_TENSORS];
    int n = vkdp_effnet_tensor_specs(specs, VKDP_EFFNET_MAX_TENSORS);
    CHECK(n == 312, "%d tensors, the Keras file has 312", n);
    int64_t params = 0;
    for (int i = 0; i < n; i++) {
        int64_t c = 1;
        for (int d = 0; d < specs[i].rank; d++)
            c *= specs[i].shape[d];
        params += c;
    }
    CHECK(params == 4049571, "%lld parameters", (long long)params);
    CHECK(!strcmp(specs[0].layer, "normalization") && !strcmp(specs[2].weight, "count:0") && specs[2].is_int &&
              specs[2].rank == 0, "normalization first");
    const vkdp_effnet_tensor_spec *last = &specs[n - 1];
    CHECK(!strcmp(last->layer, "top_bn") && !strcmp(last->weight, "moving_variance:0"), "top_bn last");
    /* fan_out as Keras computes it: 1x1 conv -> out; depthwise [k,k,C,1] -> k*k; stem -> 9*32 */
    for (int i = 0; i < n; i++) {
        if (!strcmp(specs[i].layer, "stem_conv"))
            CHECK(vkdp_effnet_fan_out(&specs[i]) == 288, "stem fan_out");
        if (!strcmp(specs[i].layer, "block6a_dwconv"))
            CHECK(vkdp_effnet_fan_out(&specs[i]) == 25, "dw fan_out");
        if (!strcmp(specs[i].layer, "top_conv"))
            CHECK(vkdp_effnet_fan_out(&specs[i]) == 1280, "top fan_out");
    }
    /* a short buffer gets a prefix and the full count */
    CHECK(vkdp_effnet_tensor_specs(specs, 5) == 312, "count with short buffer");

    printf("%s effnet_arch: correct_pad n=1..300 k=1..7, 16 blocks, %d tensors, %lld parameters\n",
           failures ? "FAIL" : "ok", n, (long long)params);
    return failures ? 1 : 0;
}
