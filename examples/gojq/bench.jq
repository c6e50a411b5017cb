# make bench's gojq job over cmd/bench's generated records (gendata ...
# json): select, project, group, aggregate, string functions, sort.
[.[] | select(.active and .score > 20)
     | {id, name, n: (.tags | length), g: .owner.group, s: (.score * 100 | floor)}]
| group_by(.g)
| map({g: .[0].g, count: length, total: (map(.s) | add),
       long: (map(select(.n > 2)) | length),
       first: (map(.name | ascii_upcase | split(" ") | .[0]) | unique | length)})
| sort_by(-.count, .g) | .[:10]
