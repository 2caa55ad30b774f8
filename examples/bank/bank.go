// Package bank is the demo mesh: a bank's data product descriptors and
// directory, embedded so that `askmesh demo` needs no files. The data itself
// is made by the bankgen generator.
package bank

import "embed"

// Files holds products/*.yaml and directory.yaml.
//
//go:embed products/*.yaml directory.yaml
var Files embed.FS

// Paths inside Files.
const (
	ProductsDir   = "products"
	DirectoryFile = "directory.yaml"
)

// Users are the demo users, in the order the demo lists them.
var Users = []string{
	"carol@bank.example",
	"alice@bank.example",
	"bob@bank.example",
	"erin@bank.example",
	"dave@bank.example",
	"frank@bank.example",
}
