package main

import "strings"

// quoteWord quotes s as one word of yolk's kernel command line (see
// kernel.ParseCmdline): bare when it holds only characters the parser
// leaves alone, else in double quotes with backslashes before '"' and
// '\'. Inside quotes blanks, newlines and every other byte stand for
// themselves, so any argv word (which cannot hold NUL) survives exactly.
func quoteWord(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return r <= ' ' || r == '"' || r == '\\' || r >= 0x7f
	}) < 0 {
		return s
	}
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('"')
	return b.String()
}

// kernelCmdline builds the kernel command line: -o's options as given,
// the runner's own options, env.NAME=VALUE for each variable, then "--"
// and the arguments: -a's string as given, or each PROGRAM argument
// quoted as one word.
func kernelCmdline(kopts string, extra []string, env []string, haveArgs bool, rawArgs string, args []string) string {
	var words []string
	if kopts != "" {
		words = append(words, kopts)
	}
	for _, w := range extra {
		words = append(words, quoteWord(w))
	}
	for _, e := range env {
		words = append(words, quoteWord("env."+e))
	}
	switch {
	case haveArgs:
		words = append(words, "--")
		if rawArgs != "" {
			words = append(words, rawArgs)
		}
	case len(args) > 0:
		words = append(words, "--")
		for _, a := range args {
			words = append(words, quoteWord(a))
		}
	}
	return strings.Join(words, " ")
}

// straceOutput is the FILE of strace's -o FILE among the kernel options
// (-o "strace=-f,-o,trace.txt", or strace's own spacing, as the kernel
// reads it: a trailing -e or -o takes the next word), or "".
func straceOutput(kopts string) string {
	words := strings.Fields(kopts)
	for i := 0; i < len(words); i++ {
		opts, ok := strings.CutPrefix(words[i], "strace=")
		if !ok {
			continue
		}
		for i+1 < len(words) && (strings.HasSuffix(opts, ",-e") || strings.HasSuffix(opts, ",-o") || opts == "-e" || opts == "-o") {
			i++
			opts += "," + words[i]
		}
		parts := strings.Split(opts, ",")
		for j, p := range parts {
			switch {
			case p == "-o" && j+1 < len(parts):
				return parts[j+1]
			case strings.HasPrefix(p, "-o") && len(p) > 2:
				return strings.TrimPrefix(p[2:], "=")
			}
		}
	}
	return ""
}
