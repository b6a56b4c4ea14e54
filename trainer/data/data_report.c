/* Keras-style dataset summary ("Found N files belonging to K classes.", "Using N files for
 * training.") plus what Keras does not say: per-class counts and every file left out, with why. */
#include "vkdp/data/data.h"

void vkdp_dataset_print_summary(const vkdp_index *idx, const vkdp_split *split, FILE *f)
{
    fprintf(f, "Found %d files belonging to %d classes.\n", idx->n, idx->nclasses);
    for (int k = 0; k < idx->nclasses; k++)
        fprintf(f, "  class %d %-20s %d files%s\n", k, idx->class_names[k], idx->class_counts[k],
                idx->class_counts[k] ? "" : "  (warning: no usable image)");
    if (idx->nexcluded)
        fprintf(f, "Excluded %d invalid file(s) (Keras would list them, so its split would differ):\n",
                idx->nexcluded);
    for (int i = 0; i < idx->nexcluded; i++)
        fprintf(f, "  excluded %s: %s\n", idx->excluded[i].path, idx->excluded[i].reason);
    if (idx->nskipped_types)
        fprintf(f, "Skipped %d non-JPEG image(s) (Keras would list them, so its split would differ):\n",
                idx->nskipped_types);
    for (int i = 0; i < idx->nskipped_types; i++)
        fprintf(f, "  skipped %s: %s\n", idx->skipped_types[i].path, idx->skipped_types[i].reason);
    if (split) {
        fprintf(f, "Using %d files for training.\n", split->ntrain);
        fprintf(f, "Using %d files for validation.\n", split->nval);
    }
    fflush(f);
}
