/*
 * ns.h: namespace type names <-> CLONE_NEW* flags (parent side, pure).
 * The names are those of /proc/<pid>/ns/ (namespaces(7)).
 */
#ifndef POD_LAUNCH_NS_H
#define POD_LAUNCH_NS_H

/* CLONE_NEW* flag for a namespace name, or 0 when unknown. */
int ns_flag(const char *name);

/* Rank of a namespace type in join order (lower joins first), or -1.
 * user first (it grants the rights for the rest), mnt last (after it the
 * /proc paths of the others may no longer be what the plan opened). */
int ns_join_rank(int flag);

/* Namespace name at a join rank, or NULL past the end. */
const char *ns_name_at(int rank);

#endif
