/* Comma-separated lists ("--class-names a,b,c") as arrays of strings. */
#ifndef VKDP_STRLIST_H
#define VKDP_STRLIST_H

/* Splits "a,b,c" at commas into a malloc'ed array of malloc'ed strings and returns the count;
 * empty items are dropped (",a,,b," gives a and b), so "" and "," give 0 and *out NULL. */
int vkdp_split_csv(const char *csv, char ***out);
/* Frees what vkdp_split_csv returned. */
void vkdp_free_strings(char **v, int n);

#endif
