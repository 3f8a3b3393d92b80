// tlogcheck: cvmattest's registry log against Go's golang.org/x/mod/sumdb/note and
// golang.org/x/mod/sumdb/tlog (tests/e2e/go_interop.sh builds and runs it, offline, in GOPATH
// mode against Debian's golang-golang-x-mod-dev).
//
//	tlogcheck check -dir DIR -log-vkey V -witness-vkey W [-inclusion P.json:REG]...
//	          [-consistency C.json:OLDCHECKPOINT] REG...
//	    opens DIR/checkpoint with note.Open (the log's signature and a tlog-cosignature/v1
//	    through a note.Verifier), checks the root with tlog.TreeHash over REG..., every tile
//	    file under DIR/tile against tlog.ReadTileData, inclusion proofs with tlog.CheckRecord
//	    and a consistency proof with tlog.CheckTree.
//	tlogcheck prove -dir DIR [-checkpoint CP] -index I -old N -proof-out P -consistency-out C REG...
//	    writes a c2sp.org/tlog-proof@v1 file (tlog.ProveRecord) with DIR/checkpoint (or CP) and the
//	    consistency proof from N (tlog.ProveTree) as cvmattest's JSON.
//	tlogcheck sign -origin O -vkey-out V -out CHECKPOINT REG...
//	    a fresh note key (note.GenerateKey) signs the checkpoint of REG... (note.Sign).
package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

func die(format string, a ...interface{}) {
	fmt.Fprintf(os.Stderr, "tlogcheck: "+format+"\n", a...)
	os.Exit(1)
}

type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(s string) error { *m = append(*m, s); return nil }

// cosigVerifier checks tlog-cosignature/v1 (type 0x04) lines through the note package.
type cosigVerifier struct {
	name string
	hash uint32
	pub  ed25519.PublicKey
}

func (v *cosigVerifier) Name() string    { return v.name }
func (v *cosigVerifier) KeyHash() uint32 { return v.hash }
func (v *cosigVerifier) Verify(msg, sig []byte) bool {
	if len(sig) != 8+ed25519.SignatureSize {
		return false
	}
	t := binary.BigEndian.Uint64(sig)
	m := []byte(fmt.Sprintf("cosignature/v1\ntime %d\n", t))
	return ed25519.Verify(v.pub, append(m, msg...), sig[8:])
}

func newCosigVerifier(vkey string) *cosigVerifier {
	parts := strings.SplitN(strings.TrimSpace(vkey), "+", 3) // base64 may hold a +
	if len(parts) != 3 {
		die("witness vkey: %q", vkey)
	}
	raw, err := base64.StdEncoding.DecodeString(parts[2])
	if err != nil || len(raw) != 33 || raw[0] != 1 {
		die("witness vkey: %v", err)
	}
	h := sha256.New()
	h.Write([]byte(parts[0] + "\n"))
	h.Write([]byte{4})
	h.Write(raw[1:])
	return &cosigVerifier{parts[0], binary.BigEndian.Uint32(h.Sum(nil)), raw[1:]}
}

type checkpoint struct {
	origin string
	size   int64
	root   tlog.Hash
}

func parseCheckpoint(text string) checkpoint {
	lines := strings.Split(text, "\n")
	if len(lines) < 4 {
		die("checkpoint: %q", text)
	}
	n, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil {
		die("checkpoint size: %v", err)
	}
	h, err := tlog.ParseHash(lines[2])
	if err != nil {
		die("checkpoint root: %v", err)
	}
	return checkpoint{lines[0], n, h}
}

func readFile(p string) []byte {
	b, err := os.ReadFile(p)
	if err != nil {
		die("%v", err)
	}
	return b
}

// hashStore keeps every stored hash (Go's layout) of a log built from records.
type hashStore []tlog.Hash

func (s hashStore) ReadHashes(idx []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(idx))
	for i, x := range idx {
		if x >= int64(len(s)) {
			return nil, fmt.Errorf("hash %d not stored", x)
		}
		out[i] = s[x]
	}
	return out, nil
}

func build(regs []string) hashStore {
	var s hashStore
	for i, r := range regs {
		hs, err := tlog.StoredHashes(int64(i), readFile(r), s)
		if err != nil {
			die("%v", err)
		}
		s = append(s, hs...)
	}
	return s
}

func decodeHashes(list []string) []tlog.Hash {
	out := make([]tlog.Hash, len(list))
	for i, s := range list {
		h, err := tlog.ParseHash(s)
		if err != nil {
			die("hash %q: %v", s, err)
		}
		out[i] = h
	}
	return out
}

func tileFile(t tlog.Tile) string {
	// tlog-tiles: tile/<L>/<N>[.p/<W>]: Go's sumdb path without the height element.
	p := strings.TrimPrefix(t.Path(), "tile/8/")
	return filepath.Join("tile", p)
}

func check(args []string) {
	fs := flag.NewFlagSet("check", flag.ExitOnError)
	dir := fs.String("dir", "", "log directory")
	logVkey := fs.String("log-vkey", "", "log verifier key file")
	witVkey := fs.String("witness-vkey", "", "witness verifier key file")
	var incl, cons multi
	fs.Var(&incl, "inclusion", "P.json:REG")
	fs.Var(&cons, "consistency", "C.json:OLDCHECKPOINT")
	fs.Parse(args)
	regs := fs.Args()

	lv, err := note.NewVerifier(strings.TrimSpace(string(readFile(*logVkey))))
	if err != nil {
		die("log vkey: %v", err)
	}
	wv := newCosigVerifier(string(readFile(*witVkey)))
	n, err := note.Open(readFile(filepath.Join(*dir, "checkpoint")), note.VerifierList(lv, wv))
	if err != nil {
		die("note.Open: %v", err)
	}
	names := map[string]bool{}
	for _, s := range n.Sigs {
		names[s.Name] = true
	}
	if !names[lv.Name()] || !names[wv.Name()] {
		die("signatures verified: %v; want the log's and the witness's", names)
	}
	cp := parseCheckpoint(n.Text)
	if cp.size != int64(len(regs)) {
		die("checkpoint size %d, %d records given", cp.size, len(regs))
	}
	store := build(regs)
	th, err := tlog.TreeHash(cp.size, store)
	if err != nil || th != cp.root {
		die("tlog.TreeHash %v, checkpoint root %v (%v)", th, cp.root, err)
	}
	// Every tile tlog-tiles needs for this size, byte for byte.
	tiles := tlog.NewTiles(8, 0, cp.size)
	for _, t := range tiles {
		want, err := tlog.ReadTileData(t, store)
		if err != nil {
			die("ReadTileData %v: %v", t, err)
		}
		got := readFile(filepath.Join(*dir, tileFile(t)))
		if !bytes.Equal(got, want) {
			die("%s differs from Go's tile data", tileFile(t))
		}
	}
	for _, spec := range incl {
		p, reg, _ := strings.Cut(spec, ":")
		var j struct {
			Index    int64    `json:"index"`
			TreeSize int64    `json:"tree_size"`
			Hashes   []string `json:"hashes"`
		}
		if err := json.Unmarshal(readFile(p), &j); err != nil {
			die("%s: %v", p, err)
		}
		if err := tlog.CheckRecord(decodeHashes(j.Hashes), j.TreeSize, cp.root, j.Index,
			tlog.RecordHash(readFile(reg))); err != nil {
			die("tlog.CheckRecord %s: %v", p, err)
		}
	}
	for _, spec := range cons {
		p, old, _ := strings.Cut(spec, ":")
		var j struct {
			OldSize int64    `json:"old_size"`
			NewSize int64    `json:"new_size"`
			Hashes  []string `json:"hashes"`
		}
		if err := json.Unmarshal(readFile(p), &j); err != nil {
			die("%s: %v", p, err)
		}
		on, err := note.Open(readFile(old), note.VerifierList(lv))
		if err != nil {
			die("old checkpoint: %v", err)
		}
		oc := parseCheckpoint(on.Text)
		if oc.size != j.OldSize || cp.size != j.NewSize {
			die("%s: sizes %d..%d, checkpoints %d..%d", p, j.OldSize, j.NewSize, oc.size, cp.size)
		}
		if err := tlog.CheckTree(decodeHashes(j.Hashes), cp.size, cp.root, oc.size, oc.root); err != nil {
			die("tlog.CheckTree %s: %v", p, err)
		}
	}
	fmt.Printf("go: checkpoint, cosignature, %d tiles, %d inclusion and %d consistency proofs verified\n",
		len(tiles), len(incl), len(cons))
}

func prove(args []string) {
	fs := flag.NewFlagSet("prove", flag.ExitOnError)
	dir := fs.String("dir", "", "log directory")
	cpFile := fs.String("checkpoint", "", "checkpoint file (default DIR/checkpoint)")
	index := fs.Int64("index", 0, "record index")
	old := fs.Int64("old", 1, "old size")
	proofOut := fs.String("proof-out", "", "tlog-proof file")
	consOut := fs.String("consistency-out", "", "consistency JSON")
	fs.Parse(args)
	regs := fs.Args()
	store := build(regs)
	t := int64(len(regs))
	rp, err := tlog.ProveRecord(t, *index, store)
	if err != nil {
		die("ProveRecord: %v", err)
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "c2sp.org/tlog-proof@v1\nindex %d\n", *index)
	for _, h := range rp {
		fmt.Fprintf(&b, "%s\n", h)
	}
	b.WriteString("\n")
	if *cpFile == "" {
		*cpFile = filepath.Join(*dir, "checkpoint")
	}
	b.Write(readFile(*cpFile))
	if err := os.WriteFile(*proofOut, b.Bytes(), 0o644); err != nil {
		die("%v", err)
	}
	tp, err := tlog.ProveTree(t, *old, store)
	if err != nil {
		die("ProveTree: %v", err)
	}
	hs := make([]string, len(tp))
	for i, h := range tp {
		hs[i] = h.String()
	}
	j, _ := json.Marshal(map[string]interface{}{"old_size": *old, "new_size": t, "hashes": hs})
	if err := os.WriteFile(*consOut, j, 0o644); err != nil {
		die("%v", err)
	}
}

func sign(args []string) {
	fs := flag.NewFlagSet("sign", flag.ExitOnError)
	origin := fs.String("origin", "", "origin / key name")
	vkeyOut := fs.String("vkey-out", "", "verifier key file")
	out := fs.String("out", "", "checkpoint file")
	fs.Parse(args)
	store := build(fs.Args())
	t := int64(len(fs.Args()))
	th, err := tlog.TreeHash(t, store)
	if err != nil {
		die("%v", err)
	}
	skey, vkey, err := note.GenerateKey(rand.Reader, *origin)
	if err != nil {
		die("%v", err)
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		die("%v", err)
	}
	msg, err := note.Sign(&note.Note{Text: fmt.Sprintf("%s\n%d\n%s\n", *origin, t, th)}, s)
	if err != nil {
		die("%v", err)
	}
	if os.WriteFile(*vkeyOut, []byte(vkey+"\n"), 0o644) != nil || os.WriteFile(*out, msg, 0o644) != nil {
		die("cannot write")
	}
}

func main() {
	if len(os.Args) < 2 {
		die("usage: tlogcheck check|prove|sign ...")
	}
	switch os.Args[1] {
	case "check":
		check(os.Args[2:])
	case "prove":
		prove(os.Args[2:])
	case "sign":
		sign(os.Args[2:])
	default:
		die("unknown mode %s", os.Args[1])
	}
}
