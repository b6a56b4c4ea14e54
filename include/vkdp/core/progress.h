/* Keras-style progress for long work: on a TTY a redrawn per-epoch bar
 *   23/92 [=======>......................] - ETA: 31s - loss: 0.8012 - accuracy: 0.7011
 * and, when stdout is not a TTY (logs, Slurm), one plain line every `interval` seconds.
 * Only rank 0 prints. */
#ifndef VKDP_PROGRESS_H
#define VKDP_PROGRESS_H
#include <stdint.h>

typedef struct vkdp_progress vkdp_progress;

/* title e.g. "Epoch 1/2" (printed at start); steps = total steps of this phase. */
vkdp_progress *vkdp_progress_start(const char *title, int64_t steps, double interval_s);
/* done = steps completed so far; metrics = " - loss: ... - accuracy: ..." (may be ""). */
void vkdp_progress_update(vkdp_progress *p, int64_t done, const char *metrics);
/* Final line: "92/92 [====] - 45s 480ms/step<metrics>", then frees p. */
void vkdp_progress_finish(vkdp_progress *p, const char *metrics);

#endif
