# askmesh's default authorization policy.
#
# It names no people, groups or products: it decides from data.
#   data.askmesh.directory.users[lower-cased id]  who may use askmesh
#   data.askmesh.products[name].access            the grants each domain team
#                                                 wrote in its descriptor
# A domain team changes access by editing its grants, or by adding a module
# to this package that adds reasons to `deny` (see docs/policies.md).
#
# askmesh evaluates data.askmesh.authz.decision. What does not depend on the
# input (each grant's view of its product's columns, the grants of each
# group) is worked out once per product, in `index`, when products change;
# a decision looks it up. Derived values are complete rules and set
# operations rather than per-column function calls: OPA evaluates each once
# per decision, which keeps a decision cheap.
package askmesh.authz

# decision is the answer askmesh acts on. Allowed: obligations for the
# executor (row filters to apply, column masks, columns withheld). Denied:
# reasons written for the person asking. A call is allowed only if a rule
# positively permits it and no rule of any module denies it. The usual
# call is decided first, from few rules; the general rules decide
# everything else, and the usual call too if they were asked (they agree).
decision := usual if {
	count(deny) == 0
} else := {
	"allow": false,
	"reasons": sort(deny),
} if {
	count(deny) > 0
} else := {
	"allow": true,
	"reasons": [],
	"row_filters": row_filters,
	"column_masks": column_masks,
	"denied_columns": denied_columns,
} if {
	permitted
} else := {
	"allow": false,
	"reasons": ["this request is not allowed by policy"],
}

not_in_directory := "you are not in the askmesh directory; ask an administrator for access"

# --- Who is asking -----------------------------------------------------------

# known: the identity resolved to a directory entry (input.subject.known),
# and the directory given to policy lists it too.
known if {
	input.subject.known == true
	data.askmesh.directory.users[lower(input.subject.id)]
}

# or the identity provider is the directory (OIDC, directory: claims): a
# verified token named the user and carried their groups and attributes.
known if {
	input.subject.known == true
	input.subject.idp == true
}

# attribute(name) is the asker's directory attribute, if set and not empty.
attribute(name) := v if {
	v := input.subject.attributes[name]
	is_string(v)
	v != ""
}

# --- What is asked -----------------------------------------------------------

# The data actions, and the grant action each needs.
needs := {
	"product.query_records": "records",
	"product.get_record": "records",
	"product.find_anomalies": "records",
	"product.query_metrics": "metrics",
}

needed := needs[input.action]

product_action if input.action == "product.describe"

product_action if needs[input.action]

product_name := object.get(input.resource, "product", "")

product := data.askmesh.products[input.resource.product]

classification := product.classification

requested := {c | some c in input.resource.columns}

referenced := {c | some c in input.resource.referenced}

# The columns whose visibility the decision reports: those the call
# returns, or, to describe a product, all of them.
returned := product_index.columns if {
	input.action == "product.describe"
} else := requested

# --- The product's index ---------------------------------------------------------
#
# Everything a decision needs of a product that does not depend on the
# input: each grant's view (which columns it shows in clear, which masked)
# and, per group, which grants name it. askmesh evaluates `index` whenever
# products change and keeps the result as data.askmesh.index, so that a
# decision looks its grants up by the asker's groups instead of working
# them out again; without that data (policy unit tests) it is computed.

index := {name: index_of(p) | some name, p in data.askmesh.products}

product_index := x if {
	x := data.askmesh.index[input.resource.product]
} else := index_of(product)

index_of(p) := {
	"columns": object.keys(p.classification),
	# By data action, so that a decision finds its grant's view without
	# first working out the kind of access the action needs.
	"grants": {action: grant_of(groups, views, n) | some action, n in needs},
	"views": views,
	"groups": groups,
} if {
	# Each group's grant indexes, worked out once: the grants by kind of
	# access are read from them rather than computed again per grant.
	groups := {group: grant_ids(p, group) | some g in p.access; some group in g.groups}
	views := [grant_view(p, g) | some g in p.access]
}

# grant_of(groups, views, n): for each group with a grant giving access n,
# that grant's view, or -1 if several do (the usual call has exactly one).
grant_of(groups, views, n) := {group: only(views, ids[n]) |
	some group, ids in groups
	count(ids[n]) > 0
}

only(views, ids) := views[i] if {
	count(ids) == 1
	some i in ids
} else := -1

# The indexes of p's grants naming group: all of them, and those giving
# each kind of access.
grant_ids(p, group) := {
	"any": {i | some i, g in p.access; group in g.groups},
	"records": {i | some i, g in p.access; group in g.groups; "records" in g.actions},
	"metrics": {i | some i, g in p.access; group in g.groups; "metrics" in g.actions},
}

# --- Column visibility -----------------------------------------------------------
#
# One grant shows a column:
#   restricted                         never, whatever the grant says
#   named in mask (column: kind)       masked: the most specific rule
#   public or internal                 in clear
#   classification in see             in clear
#   classification in mask             masked
#   otherwise                          withheld

always_visible := {"public", "internal"}

grant_view(p, g) := {
	"clear": clear,
	"masked": masked,
	"shown": clear | object.keys(masked),
	# The filters with a literal value, as a decision gives them, and those
	# that take the asker's attribute, as [column, op, attribute] in order:
	# a decision only looks the attributes up.
	"filters": literal,
	"attribute_filters": by_attribute,
	# How many different filters the grant has: as many as a decision
	# gives if the asker has every attribute they take.
	"filter_count": count({rf | some rf in g.row_filters}),
	# Whether the literal filters, then those by attribute, are already in
	# the decision's order, each once: one of the two kinds only, and no
	# two filters by attribute on the same column and op.
	"filters_in_order": filters_in_order(literal, by_attribute),
	# Why each of the product's columns the grant does not show in clear
	# cannot be computed with: a refusal reads its reason here.
	"unusable": {c: unusable_reason_of(c, class, masked) |
		some c, class in p.classification
		not clear[c]
	},
} if {
	literal := sort({{"column": rf.column, "op": rf.op, "value": rf.value} |
		some rf in g.row_filters
		rf.subject_attribute == ""
	})
	by_attribute := sort([[rf.column, rf.op, rf.subject_attribute] |
		some rf in g.row_filters
		rf.subject_attribute != ""
	])
	by_class := p.columns_by_class
	restricted := object.get(by_class, "restricted", set())
	visible := always_visible | {k | some k in g.see}
	named := object.keys(g.mask) & object.keys(p.classification)
	clear := (union({cols | some k in visible; cols := by_class[k]}) - named) - restricted
	by_name := object.filter(g.mask, named)
	by_class_mask := {c: kind |
		some k, kind in g.mask
		not visible[k]
		some c in by_class[k]
		not named[c]
	}
	masked := object.remove(object.union(by_class_mask, by_name), restricted)
}

# --- Grants --------------------------------------------------------------------

# The asker's grants of the product giving an action ("any": all of them).
mine(action) := {i |
	some group in input.subject.groups
	some i in product_index.groups[group][action]
}

granted(action) if count(mine(action)) > 0

# The grants that decide this call: those giving the action it needs; to
# describe a product, all of the asker's grants (what they would see).
applicable := mine("any") if {
	input.action == "product.describe"
} else := mine(needed)

# The usual data call: exactly one grant applies, and the index names it
# by action and the asker's group, so it is looked up rather than worked
# out from every group and grant. One of the asker's groups has a grant
# for the action, and only one (a group with several has index -1, which
# names no view); anything else is decided by the general rules.
one_view := v if {
	# The asker as the directory resolved them, in one group: the checks
	# of known, and the index's lookup, inline (each rule an evaluation
	# goes through costs it a cache entry and a frame), reading data.askmesh's
	# documents whole (a shorter path for OPA to cache).
	input.subject.known == true
	directory := data.askmesh.directory
	directory.users[lower(input.subject.id)]
	all := data.askmesh.index
	ix := all[input.resource.product]
	[group] := input.subject.groups
	v := ix.grants[input.action][group]
	is_object(v)
} else := v if {
	known
	grants := product_index.grants[input.action]
	[v] := [v | some group in input.subject.groups; v := grants[group]]
	is_object(v)
}

# The views of the grants that decide this call.
call_views := [v] if {
	v := one_view
} else := [product_index.views[i] | some i in applicable]

# Several grants can apply. Without row filters their visibility is united:
# a column is in clear if any grant shows it in clear. If any of them limits
# rows, the most restrictive combination applies: every grant's row filters,
# and for each column the least any grant shows, so that a broader grant
# never widens what a row-limited one reveals.
filtered if {
	some v in call_views
	v.filter_count > 0
}

# One grant (the usual case) is its own view; several are combined. The
# usual data call's is known without listing the applicable grants.
sole := v if {
	v := one_view
} else := call_views[0] if count(call_views) == 1

grant_clear := {v.clear | some v in call_views}

grant_shown := {v.shown | some v in call_views}

clear_columns := sole.clear if {
	sole
} else := intersection(grant_clear) if {
	filtered
} else := union(grant_clear)

masked_columns := object.keys(sole.masked) if {
	sole
} else := intersection(grant_shown) - clear_columns if {
	filtered
} else := union(grant_shown) - clear_columns

shown_columns := sole.shown if {
	sole
} else := clear_columns | masked_columns

# When grants mask a column differently, the most protective mask wins (a
# kind this policy does not know ranks with redact, as the executor applies
# it).
mask_rank := {"last4": 1, "hash": 2, "redact": 3}

rank_kind := {1: "last4", 2: "hash", 3: "redact"}

column_masks := sole.masked if {
	sole
} else := {c: rank_kind[top] |
	some c in masked_columns
	top := max({object.get(mask_rank, v.masked[c], 3) | some v in call_views})
}

# Columns the call would return that the asker may not see (unknown names
# included): the executor drops them and says so.
denied_columns := sort(returned - shown_columns)

# --- Row filters -------------------------------------------------------------------

row_filters := [f | some f in row_filter_set] if {
	needed
	filtered
} else := []

row_filter_set := {f |
	some v in call_views
	some f in row_filters_of(v)
}

# One grant's row filters as a decision gives them (sorted, each once): the
# literal ones from the index, and those taking an attribute with the
# asker's. A missing attribute leaves its filter out here and denies the
# call below.
row_filters_of(v) := v.filters if {
	count(v.attribute_filters) == 0
} else := sort({f | some f in v.filters} | {f |
	some [column, op, a] in v.attribute_filters
	f := {"column": column, "op": op, "value": attribute(a)}
})

default filters_in_order(_, _) := false

filters_in_order(_, by_attribute) if count(by_attribute) == 0

filters_in_order(literal, by_attribute) if {
	count(literal) == 0
	count({[column, op] | some [column, op, _] in by_attribute}) == count(by_attribute)
}

# --- Permission ----------------------------------------------------------------------

permitted if {
	known
	input.action == "catalog.search"
}

permitted if {
	known
	input.action == "product.describe"
	product
}

permitted if data_call

# data_call: a known asker, a known product, a data action, a grant for it.
data_call if one_view

data_call if {
	known
	product
	needed
	count(applicable) > 0
}

# --- The usual call ------------------------------------------------------------------
#
# A data call to which one grant applies (one_view), that computes only
# with columns the grant shows in clear, returns at least one column the
# asker may see (or asks for none) and needs no attribute the asker lacks.
# None of the refusals below can apply to it, and its decision is the one
# the general rules would reach: it is decided from the grant's view in a
# few steps, without them.
usual := {
	"allow": true,
	"reasons": [],
	"row_filters": rows,
	"column_masks": v.masked,
	"denied_columns": denied,
} if {
	v := one_view
	count({c | some c in input.resource.referenced} - v.clear) == 0
	cols := {c | some c in input.resource.columns}
	denied := sort(cols - v.shown)
	# Some column asked for is shown, or none is asked for.
	count(denied) < max([count(cols), 1])
	# The grant's row filters: in the index's order, which is the
	# decision's when filters_in_order (row_filters_of otherwise).
	v.filters_in_order
	rows := array.concat(v.filters, [{"column": column, "op": op, "value": x} |
		some [column, op, a] in v.attribute_filters
		# attribute(a), inline
		x := input.subject.attributes[a]
		is_string(x)
		x != ""
	])
	# The asker has every attribute the filters take.
	count(rows) == v.filter_count
}

none_visible if {
	count(requested) > 0
	count(denied_columns) == count(requested)
}

# --- Denials -------------------------------------------------------------------------
#
# deny is a set of reasons, each a sentence for the person asking. Any
# module in package askmesh.authz may add to it; one reason denies. The
# default policy's own reasons are its refusals.

deny contains msg if {
	not usual
	some msg in refusals
}

# A data call the asker has a grant for can only be refused for what it
# asks of the product's columns; any other call only for who asks, what,
# or on which product. Only the refusals that can apply are evaluated.
refusals := one_view_refusals if one_view else := column_refusals if data_call else := access_refusals

# A data call to which one grant applies is refused for what the grant's
# view says: the reasons of the columns it cannot compute with are in the
# index; the other refusals are the general ones below, on that one view.
one_view_refusals := unusable_msgs | {msg |
	count(unusable_msgs) == 0
	none_visible
	msg := none_visible_msg
} | {msg |
	some [_, _, a] in one_view.attribute_filters
	not attribute(a)
	msg := missing_attribute_msg(a)
} if {
	v := one_view
	unusable_msgs := {msg |
		some c in input.resource.referenced
		not v.clear[c]
		msg := one_view_reason(v, c)
	}
}

one_view_reason(v, col) := v.unusable[col] if {
	true
} else := sprintf("%s is not a column of %s", [col, product_name])

access_refusals contains not_in_directory if not known

access_refusals contains msg if {
	known
	input.action != "catalog.search"
	not product_action
	msg := sprintf("%q is not something askmesh can be asked to do", [input.action])
}

access_refusals contains msg if {
	known
	product_action
	not product
	msg := unknown_product
}

unknown_product := "the request names no data product" if {
	product_name == ""
} else := sprintf("askmesh has no data product named %q", [product_name])

# No grant for the action at all.
access_refusals contains msg if {
	known
	product
	n := needed
	count(applicable) == 0
	not granted(other_action[n])
	msg := sprintf("you are not in a group that may query %s", [product_name])
}

# A grant for the other kind of access only.
access_refusals contains msg if {
	known
	product
	n := needed
	count(applicable) == 0
	granted(other_action[n])
	msg := only_other[n]
}

other_action := {"records": "metrics", "metrics": "records"}

only_other := {
	"records": sprintf("you may see metrics of %s, but not individual records", [product_name]),
	"metrics": sprintf("you may see individual records of %s, but not metrics", [product_name]),
}

# Columns used to compute (filters, group by, sort keys, metric
# expressions) must be visible in clear, or results would leak them.
unusable := referenced - clear_columns if data_call

column_refusals contains msg if {
	some col in unusable
	msg := unusable_reason(col)
}

computed := "so it cannot be used in metrics, filters, grouping or sorting"

unusable_reason(col) := sprintf("%s is not a column of %s", [col, product_name]) if {
	not classification[col]
} else := sprintf("%s is restricted and never visible to anyone, %s", [col, computed]) if {
	classification[col] == "restricted"
} else := sprintf("%s is %s and you see it only masked, %s", [col, classification[col], computed]) if {
	masked_columns[col]
} else := sprintf("%s is %s and not visible to you, %s", [col, classification[col], computed])

# The same reasons for a column of the product, of class, that a grant
# masking masked does not show in clear (the index's).
unusable_reason_of(col, class, masked) := sprintf("%s is restricted and never visible to anyone, %s", [col, computed]) if {
	class == "restricted"
} else := sprintf("%s is %s and you see it only masked, %s", [col, class, computed]) if {
	masked[col]
} else := sprintf("%s is %s and not visible to you, %s", [col, class, computed])

# Nothing asked for is visible. Said once: a column both returned and
# computed with is already named above.
column_refusals contains msg if {
	data_call
	count(unusable) == 0
	none_visible
	msg := none_visible_msg
}

none_visible_msg := sprintf("none of the columns you asked for from %s are visible to you (%s)", [product_name, concat(", ", denied_columns)])

missing_attribute_msg(a) := sprintf("your directory entry has no %s attribute, which access to %s requires", [a, product_name])

# A row filter needs an attribute the asker's directory entry lacks.
column_refusals contains msg if {
	data_call
	some v in call_views
	some [_, _, a] in v.attribute_filters
	not attribute(a)
	msg := missing_attribute_msg(a)
}
