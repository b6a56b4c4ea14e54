/* The collective watchdog: a thread that ends the job when one collective or device wait takes
 * longer than a limit, because TCP never fails fast on a cut link and MPI would wait forever.
 *
 * dist/ marks each collective and vk/ each device wait with vkdp_watch_begin/_end; the training
 * loop says where it is (vkdp_watch_where). When a marked operation has run for the timeout,
 * the watchdog prints one line naming it, the place and the limit, and ends the job through
 * vkdp_fatal_at (MPI_Abort); should the abort itself hang (its peers unreachable), the process
 * exits anyway a few seconds later. Time in which this process was stopped (SIGSTOP: a suspended
 * job) is not counted, so a job suspended and resumed whole goes on. Without vkdp_watchdog_start
 * every call is a cheap no-op. */
#ifndef VKDP_WATCHDOG_H
#define VKDP_WATCHDOG_H
#include "vkdp/core/common.h"

/* Starts the watchdog thread with this limit in seconds (> 0); `flag` names the option that set
 * it, for the message. A second start only changes the limit. */
void vkdp_watchdog_start(double timeout_s, const char *flag);
/* Stops and joins the thread (no-op when not started). */
void vkdp_watchdog_stop(void);

/* An operation that must finish within the limit: "MPI_Allreduce (3 x int64)". Nested marks
 * keep the outermost one. */
void vkdp_watch_begin(const char *fmt, ...) VKDP_PRINTF(1, 2);
void vkdp_watch_end(void);
/* Where the caller is, for the message: "training step 9 (epoch 2, step 3 of 6)". */
void vkdp_watch_where(const char *fmt, ...) VKDP_PRINTF(1, 2);

#endif
