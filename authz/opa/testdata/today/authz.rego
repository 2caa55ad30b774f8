# The default policy as it was before grants were indexed (issue 18), kept
# as the baseline its benchmark compares today's decisions with.
#
# askmesh's default authorization policy.
#
# It names no people, groups or products: it decides from data.
#   data.askmesh.directory.users[lower-cased id]  who may use askmesh
#   data.askmesh.products[name].access            the grants each domain team
#                                                 wrote in its descriptor
# A domain team changes access by editing its grants, or by adding a module
# to this package that adds reasons to `deny` (see docs/policies.md).
#
# askmesh evaluates data.askmesh.authz.decision. Derived values are complete
# rules and set operations rather than per-column function calls: OPA
# evaluates each once per decision, which keeps a decision cheap.
package askmesh.authz

# decision is the answer askmesh acts on. Allowed: obligations for the
# executor (row filters to apply, column masks, columns withheld). Denied:
# reasons written for the person asking.
decision := {
	"allow": true,
	"reasons": [],
	"row_filters": row_filters,
	"column_masks": column_masks,
	"denied_columns": denied_columns,
} if {
	allow
} else := {
	"allow": false,
	"reasons": reasons,
}

# A call is allowed only if a rule positively permits it and no rule of any
# module denies it.
default allow := false

allow if {
	permitted
	count(deny) == 0
}

reasons := [r | some r in deny] if {
	count(deny) > 0
} else := ["this request is not allowed by policy"]

not_in_directory := "you are not in the askmesh directory; ask an administrator for access"

# --- Who is asking -----------------------------------------------------------

# known: the identity resolved to a directory entry (input.subject.known),
# and the directory given to policy lists it too.
known if {
	input.subject.known == true
	data.askmesh.directory.users[lower(input.subject.id)]
}

subject_groups := {g | some g in input.subject.groups}

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

product := data.askmesh.products[product_name]

classification := product.classification

by_class := product.columns_by_class

all_columns := object.keys(classification)

restricted_columns := object.get(by_class, "restricted", set())

requested := {c | some c in input.resource.columns}

referenced := {c | some c in input.resource.referenced}

# The columns whose visibility the decision reports: those the call
# returns, or, to describe a product, all of them.
returned := all_columns if {
	input.action == "product.describe"
} else := requested

# --- Grants --------------------------------------------------------------------

# Indexes of the product's grants that name one of the asker's groups.
mine := {i |
	some i, g in product.access
	some group in g.groups
	subject_groups[group]
}

granted(action) if {
	some i in mine
	action in product.access[i].actions
}

# The grants that decide this call: those giving the action it needs; to
# describe a product, all of the asker's grants (what they would see).
applicable := mine if {
	input.action == "product.describe"
} else := {i |
	some i in mine
	needed in product.access[i].actions
}

# Several grants can apply. Without row filters their visibility is united:
# a column is in clear if any grant shows it in clear. If any of them limits
# rows, the most restrictive combination applies: every grant's row filters,
# and for each column the least any grant shows, so that a broader grant
# never widens what a row-limited one reveals.
filtered if {
	some i in applicable
	count(product.access[i].row_filters) > 0
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

grant_views := {i: {"clear": clear, "masked": masked} |
	some i in applicable
	g := product.access[i]
	visible := always_visible | {k | some k in g.see}
	named := object.keys(g.mask) & all_columns
	clear := ((union({cols | some k in visible; cols := by_class[k]}) - named) - restricted_columns)
	by_name := object.filter(g.mask, named)
	by_class_mask := {c: kind |
		some k, kind in g.mask
		not visible[k]
		some c in by_class[k]
		not named[c]
	}
	masked := object.remove(object.union(by_class_mask, by_name), restricted_columns)
}

# One grant (the usual case) is its own view; several are combined.
sole := v if {
	count(grant_views) == 1
	some v in grant_views
}

grant_clear := {v.clear | some v in grant_views}

grant_shown := {s | some v in grant_views; s := v.clear | object.keys(v.masked)}

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

# When grants mask a column differently, the most protective mask wins (a
# kind this policy does not know ranks with redact, as the executor applies
# it).
mask_rank := {"last4": 1, "hash": 2, "redact": 3}

rank_kind := {1: "last4", 2: "hash", 3: "redact"}

column_masks := sole.masked if {
	sole
} else := {c: rank_kind[top] |
	some c in masked_columns
	top := max({object.get(mask_rank, v.masked[c], 3) | some v in grant_views})
}

# Columns the call would return that the asker may not see (unknown names
# included): the executor drops them and says so.
denied_columns := sort((returned - clear_columns) - masked_columns)

# --- Row filters -------------------------------------------------------------------

row_filters := [f | some f in row_filter_set]

row_filter_set := {f |
	needed
	some i in applicable
	some rf in product.access[i].row_filters
	f := {"column": rf.column, "op": rf.op, "value": filter_value(rf)}
}

# A filter's value is literal, or the asker's attribute. A missing
# attribute leaves the filter out here and denies the call below.
filter_value(rf) := attribute(rf.subject_attribute) if {
	rf.subject_attribute != ""
}

filter_value(rf) := rf.value if {
	rf.subject_attribute == ""
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
data_call if {
	known
	product
	needed
	count(applicable) > 0
}

# --- Denials -------------------------------------------------------------------------
#
# deny is a set of reasons, each a sentence for the person asking. Any
# module in package askmesh.authz may add to it; one reason denies.

deny contains not_in_directory if not known

deny contains msg if {
	known
	input.action != "catalog.search"
	not product_action
	msg := sprintf("%q is not something askmesh can be asked to do", [input.action])
}

deny contains msg if {
	known
	product_action
	not product
	msg := unknown_product
}

unknown_product := "the request names no data product" if {
	product_name == ""
} else := sprintf("askmesh has no data product named %q", [product_name])

# No grant for the action at all.
deny contains msg if {
	known
	product
	n := needed
	count(applicable) == 0
	not granted(other_action[n])
	msg := sprintf("you are not in a group that may query %s", [product_name])
}

# A grant for the other kind of access only.
deny contains msg if {
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

deny contains msg if {
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

# Nothing asked for is visible. Said once: a column both returned and
# computed with is already named above.
deny contains msg if {
	data_call
	count(unusable) == 0
	count(requested) > 0
	count(denied_columns) == count(requested)
	msg := sprintf("none of the columns you asked for from %s are visible to you (%s)", [product_name, concat(", ", denied_columns)])
}

# A row filter needs an attribute the asker's directory entry lacks.
deny contains msg if {
	data_call
	some i in applicable
	some rf in product.access[i].row_filters
	rf.subject_attribute != ""
	not attribute(rf.subject_attribute)
	msg := sprintf("your directory entry has no %s attribute, which access to %s requires", [rf.subject_attribute, product_name])
}
