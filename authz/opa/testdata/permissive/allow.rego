# A careless policy that allows everything: the engine must still never
# let a restricted column through.
package askmesh.authz

decision := {"allow": true, "column_masks": {"ssn": "last4"}}
