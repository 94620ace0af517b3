//! The cells of a matrix test often differ only in values: who sends the request, the
//! numbers of the records it seeds, the status it expects. Such cells become one loop over a
//! table of those values, which reads as the matrix it is and prints a fraction of the code.

use proc_macro2::{Delimiter, Group, TokenStream, TokenTree};
use quote::{format_ident, quote};

/// `cells` with every run of two or more that differ only in values folded into a `for` over
/// a table. Cells keep their order by first appearance of their shape; each cell creates its
/// own records, so none depends on another.
pub fn fold(cells: Vec<TokenStream>) -> Vec<TokenStream> {
    let mut groups: Vec<(Vec<Node>, Vec<Vec<Node>>)> = Vec::new();
    for cell in cells {
        let nodes = flatten(&cell);
        match groups
            .iter_mut()
            .find(|(first, _)| same_shape(first, &nodes))
        {
            Some((_, members)) => members.push(nodes),
            None => groups.push((nodes.clone(), vec![nodes])),
        }
    }
    groups
        .into_iter()
        .flat_map(|(_, members)| match table(&members) {
            Some(folded) => vec![folded],
            None => members.iter().map(|m| rebuild(m, &[])).collect(),
        })
        .collect()
}

/// A token tree flattened: leaves, and the bounds of groups.
#[derive(Clone)]
enum Node {
    Leaf(TokenTree),
    Open(Delimiter),
    Close,
}

fn flatten(tokens: &TokenStream) -> Vec<Node> {
    let mut nodes = Vec::new();
    push_flat(tokens, &mut nodes);
    nodes
}

fn push_flat(tokens: &TokenStream, nodes: &mut Vec<Node>) {
    for tree in tokens.clone() {
        match tree {
            TokenTree::Group(group) => {
                nodes.push(Node::Open(group.delimiter()));
                push_flat(&group.stream(), nodes);
                nodes.push(Node::Close);
            }
            leaf => nodes.push(Node::Leaf(leaf)),
        }
    }
}

/// Same tokens at the same places but for values: literals, `true`/`false` and the
/// variant of a `Caller::`.
fn same_shape(a: &[Node], b: &[Node]) -> bool {
    let is_bool = |i: &proc_macro2::Ident| i == "true" || i == "false";
    a.len() == b.len()
        && a.iter().zip(b).enumerate().all(|(at, pair)| match pair {
            (Node::Open(x), Node::Open(y)) => x == y,
            (Node::Close, Node::Close) => true,
            (Node::Leaf(TokenTree::Punct(x)), Node::Leaf(TokenTree::Punct(y))) => {
                x.as_char() == y.as_char() && x.spacing() == y.spacing()
            }
            (Node::Leaf(TokenTree::Ident(x)), Node::Leaf(TokenTree::Ident(y))) => {
                x == y || (is_bool(x) && is_bool(y)) || follows_caller(a, at)
            }
            (Node::Leaf(TokenTree::Literal(_)), Node::Leaf(TokenTree::Literal(_))) => true,
            _ => false,
        })
}

/// Whether the node at `at` is the variant in `Caller::Variant`.
fn follows_caller(nodes: &[Node], at: usize) -> bool {
    let is_colon = |n: &Node| matches!(n, Node::Leaf(TokenTree::Punct(p)) if p.as_char() == ':');
    at >= 3
        && matches!(&nodes[at - 3], Node::Leaf(TokenTree::Ident(i)) if i == "Caller")
        && is_colon(&nodes[at - 2])
        && is_colon(&nodes[at - 1])
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// `Caller::X`: the three nodes before the value are `Caller`, `:` and `:`.
    Caller,
    Bool,
    Number,
    Text,
}

/// A column of the table: its kind, the value in each cell as written, and its variable.
struct Column {
    kind: Kind,
    values: Vec<String>,
    name: String,
    /// Where the value is in the cells (the same column may fill several places).
    places: Vec<usize>,
}

/// The loop that sends every cell of `members`, when they differ only in values the table
/// can hold.
fn table(members: &[Vec<Node>]) -> Option<TokenStream> {
    let first = members.first().filter(|_| members.len() > 1)?;
    let taken: Vec<String> = first
        .iter()
        .filter_map(|n| match n {
            Node::Leaf(TokenTree::Ident(i)) => Some(i.to_string()),
            _ => None,
        })
        .collect();
    let mut columns: Vec<Column> = Vec::new();
    for at in 0..first.len() {
        if members.iter().all(|m| same_leaf(&m[at], &first[at])) {
            continue;
        }
        let values: Vec<String> = members.iter().map(|m| leaf_text(&m[at])).collect();
        let kind = kind_of(first, at, &values)?;
        match columns
            .iter_mut()
            .find(|c| c.kind == kind && c.values == values)
        {
            Some(column) => column.places.push(at),
            None => {
                let name = name(kind, &values, key_before(first, at), &columns, &taken);
                columns.push(Column {
                    kind,
                    values,
                    name,
                    places: vec![at],
                });
            }
        }
    }
    if columns.is_empty() {
        return None;
    }
    let formats = derived(first, &columns);
    let replace: Vec<(usize, Kind, TokenStream)> = columns
        .iter()
        .enumerate()
        .flat_map(|(i, c)| {
            let value = match &formats[i] {
                Some(derived) => derived.clone(),
                None => {
                    let name = format_ident!("{}", c.name);
                    quote!(#name)
                }
            };
            c.places.iter().map(move |at| (*at, c.kind, value.clone()))
        })
        .collect();
    let tabled: Vec<&Column> = columns
        .iter()
        .zip(&formats)
        .filter(|(_, f)| f.is_none())
        .map(|(c, _)| c)
        .collect();
    let body = rebuild(first, &replace);
    let body = match body.clone().into_iter().collect::<Vec<_>>().as_slice() {
        [TokenTree::Group(g)] if g.delimiter() == Delimiter::Brace => g.stream(),
        _ => body,
    };
    let vars = tabled.iter().map(|c| format_ident!("{}", c.name));
    let rows = members.iter().map(|m| {
        let values = tabled.iter().map(|c| value_tokens(m, c));
        quote!((#(#values),*))
    });
    let (pattern, rows) = if tabled.len() == 1 {
        // One column: plain values, no one-element tuples.
        let rows = members.iter().map(|m| value_tokens(m, tabled[0]));
        (quote!(#(#vars)*), quote!(#(#rows),*))
    } else {
        (quote!((#(#vars),*)), quote!(#(#rows),*))
    };
    Some(quote! {
        for #pattern in [#rows] {
            #body
        }
    })
}

/// Whether two nodes at the same place of cells of one shape write the same text, without
/// writing it where the shape already tells: most places hold the same token in every cell.
fn same_leaf(a: &Node, b: &Node) -> bool {
    match (a, b) {
        (Node::Leaf(TokenTree::Ident(x)), Node::Leaf(TokenTree::Ident(y))) => x == y,
        (Node::Leaf(TokenTree::Literal(x)), Node::Leaf(TokenTree::Literal(y))) => {
            x.to_string() == y.to_string()
        }
        // Punctuation and group bounds: `same_shape` compared them already.
        _ => true,
    }
}

fn leaf_text(node: &Node) -> String {
    match node {
        Node::Leaf(tree) => tree.to_string(),
        Node::Open(_) | Node::Close => String::new(),
    }
}

/// What a differing node holds, when the table can hold it.
fn kind_of(nodes: &[Node], at: usize, values: &[String]) -> Option<Kind> {
    match &nodes[at] {
        Node::Leaf(TokenTree::Ident(_)) if follows_caller(nodes, at) => Some(Kind::Caller),
        Node::Leaf(TokenTree::Ident(_)) if values.iter().all(|v| v == "true" || v == "false") => {
            Some(Kind::Bool)
        }
        Node::Leaf(TokenTree::Literal(_)) if values.iter().all(|v| v.parse::<u64>().is_ok()) => {
            Some(Kind::Number)
        }
        Node::Leaf(TokenTree::Literal(_)) if values.iter().all(|v| text_value(v).is_some()) => {
            Some(Kind::Text)
        }
        _ => None,
    }
}

/// A plain string literal's text: no escapes, so it can go into `format!` as is.
fn text_value(literal: &str) -> Option<&str> {
    let text = literal.strip_prefix('"')?.strip_suffix('"')?;
    (!text.contains(['\\', '"', '{', '}'])).then_some(text)
}

/// The variable of a new column: the JSON key the value is sent under, else `caller`,
/// `visible`, `status` for numbers that are all HTTP statuses, `n` for other numbers
/// (records are numbered), `text`; a name already in use gets a number.
fn name(
    kind: Kind,
    values: &[String],
    key: Option<String>,
    earlier: &[Column],
    taken: &[String],
) -> String {
    let base = key.unwrap_or_else(|| {
        match kind {
            Kind::Caller => "caller",
            Kind::Bool => "visible",
            Kind::Number
                if values
                    .iter()
                    .all(|v| v.parse::<u16>().is_ok_and(|n| (200..600).contains(&n))) =>
            {
                "status"
            }
            Kind::Number => "n",
            Kind::Text => "text",
        }
        .to_string()
    });
    let free =
        |name: &str| !earlier.iter().any(|c| c.name == name) && !taken.iter().any(|t| t == name);
    let mut name = base.clone();
    let mut k = 2;
    while !free(&name) {
        name = format!("{base}{k}");
        k += 1;
    }
    name
}

/// The key of a JSON member whose value is at `at`, when it makes a variable name.
fn key_before(nodes: &[Node], at: usize) -> Option<String> {
    let (Node::Leaf(TokenTree::Literal(key)), Node::Leaf(TokenTree::Punct(colon))) =
        (nodes.get(at.checked_sub(2)?)?, &nodes[at - 1])
    else {
        return None;
    };
    let key = text_value(&key.to_string())?.to_string();
    let snake = key.starts_with(|c: char| c.is_ascii_lowercase())
        && key
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    (colon.as_char() == ':' && snake && syn::parse_str::<syn::Ident>(&key).is_ok()).then_some(key)
}

/// For each column, the expression that computes its values from a column the table holds,
/// when there is one: `n + 1` for numbers that are always one more than `n`'s (as call
/// arguments, where no precedence can bind them differently), `format!("sample{n}")` for
/// `"sample1"`, `"sample2"`...
fn derived(nodes: &[Node], columns: &[Column]) -> Vec<Option<TokenStream>> {
    let mut derived: Vec<Option<TokenStream>> = vec![None; columns.len()];
    let tabled_numbers = |derived: &[Option<TokenStream>], below: usize| {
        (0..below)
            .filter(|&j| columns[j].kind == Kind::Number && derived[j].is_none())
            .collect::<Vec<_>>()
    };
    for (i, column) in columns.iter().enumerate() {
        if column.kind == Kind::Number && column.places.iter().all(|at| is_argument(nodes, *at)) {
            derived[i] = tabled_numbers(&derived, i)
                .into_iter()
                .find_map(|j| offset(column, &columns[j]));
        }
    }
    for (i, column) in columns.iter().enumerate() {
        if column.kind == Kind::Text {
            derived[i] = tabled_numbers(&derived, columns.len())
                .into_iter()
                .find_map(|j| spelled_by(column, &columns[j]));
        }
    }
    derived
}

/// `base + k` (or `base - k`) when every value of `number` is its row's `base` value plus
/// the same `k`.
fn offset(number: &Column, base: &Column) -> Option<TokenStream> {
    let parse = |v: &String| v.parse::<i64>().ok();
    let difference = |(v, b): (&String, &String)| Some(parse(v)? - parse(b)?);
    let mut rows = number.values.iter().zip(&base.values).map(difference);
    let k = rows.next()??;
    if k == 0 || !rows.all(|d| d == Some(k)) {
        return None;
    }
    let base = format_ident!("{}", base.name);
    let step = proc_macro2::Literal::u64_unsuffixed(k.unsigned_abs());
    Some(if k > 0 {
        quote!(#base + #step)
    } else {
        quote!(#base - #step)
    })
}

/// Whether the value at `at` is a whole argument of a call: `(` or `,` before, `,` or `)`
/// after.
fn is_argument(nodes: &[Node], at: usize) -> bool {
    let is_comma = |n: &Node| matches!(n, Node::Leaf(TokenTree::Punct(p)) if p.as_char() == ',');
    let opens = at
        .checked_sub(1)
        .and_then(|b| nodes.get(b))
        .is_some_and(|n| is_comma(n) || matches!(n, Node::Open(Delimiter::Parenthesis)));
    let closes = nodes
        .get(at + 1)
        .is_some_and(|n| is_comma(n) || matches!(n, Node::Close));
    opens && closes
}

/// `"<before>{n}<after>"` when every value of `text` is its row's number between the same
/// two pieces.
fn spelled_by(text: &Column, number: &Column) -> Option<TokenStream> {
    let first = text_value(&text.values[0])?;
    let at = first.find(number.values[0].as_str())?;
    let (before, after) = (&first[..at], &first[at + number.values[0].len()..]);
    let fits = text
        .values
        .iter()
        .zip(&number.values)
        .all(|(t, n)| text_value(t).is_some_and(|t| t == format!("{before}{n}{after}")));
    let text = format!("{before}{{{}}}{after}", number.name);
    fits.then(|| quote!(format!(#text)))
}

/// The tokens of one cell's value in `column`.
fn value_tokens(nodes: &[Node], column: &Column) -> TokenStream {
    let at = column.places[0];
    let from = match column.kind {
        Kind::Caller => at - 3,
        _ => at,
    };
    rebuild(&nodes[from..=at], &[])
}

/// Token trees from flattened nodes, each replaced value swapped for its tokens.
fn rebuild(nodes: &[Node], replace: &[(usize, Kind, TokenStream)]) -> TokenStream {
    let mut at = 0;
    build(nodes, &mut at, replace)
}

/// The trees from `at` to the end of the current group, which `at` then passes.
fn build(nodes: &[Node], at: &mut usize, replace: &[(usize, Kind, TokenStream)]) -> TokenStream {
    let mut out = TokenStream::new();
    while let Some(node) = nodes.get(*at) {
        let starts = |(place, kind, _): &&(usize, Kind, TokenStream)| match kind {
            Kind::Caller => *place == *at + 3,
            _ => *place == *at,
        };
        if let Some((place, _, value)) = replace.iter().find(starts) {
            out.extend(value.clone());
            *at = place + 1;
            continue;
        }
        *at += 1;
        match node {
            Node::Leaf(tree) => out.extend([tree.clone()]),
            Node::Open(delimiter) => {
                let inner = build(nodes, at, replace);
                out.extend([TokenTree::Group(Group::new(*delimiter, inner))]);
            }
            Node::Close => return out,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folded(cells: Vec<TokenStream>) -> Vec<String> {
        fold(cells).iter().map(ToString::to_string).collect()
    }

    #[test]
    fn cells_that_differ_in_caller_and_status_become_one_loop() {
        let cells = vec![
            quote!(callers.expect(&app, Caller::Anonymous, "GET", "/a", None, 401).await;),
            quote!(callers.expect(&app, Caller::Owner, "GET", "/a", None, 200).await;),
        ];
        let expected = quote! {
            for (caller, status) in [(Caller::Anonymous, 401), (Caller::Owner, 200)] {
                callers.expect(&app, caller, "GET", "/a", None, status).await;
            }
        };
        assert_eq!(folded(cells), [expected.to_string()]);
    }

    #[test]
    fn numbered_values_are_computed_from_the_record_number() {
        let cells = [1, 2].map(|n: usize| {
            let text = format!("sample{n}");
            let (n, next) = (
                proc_macro2::Literal::usize_unsuffixed(n),
                proc_macro2::Literal::usize_unsuffixed(n + 1),
            );
            quote! {{
                let a = seed_a(&app, #n, #next).await;
                send(Caller::Owner, json!({ "title": #text }));
            }}
        });
        let expected = quote! {
            for n in [1, 2] {
                let a = seed_a(&app, n, n + 1).await;
                send(Caller::Owner, json!({ "title": format!("sample{n}") }));
            }
        };
        assert_eq!(folded(cells.to_vec()), [expected.to_string()]);
    }

    #[test]
    fn texts_sent_under_a_json_key_are_named_after_it() {
        let cells = ["X", "Y"].map(|code| quote!(send(json!({ "code": #code }));));
        let expected = quote! {
            for code in ["X", "Y"] {
                send(json!({ "code": code }));
            }
        };
        assert_eq!(folded(cells.to_vec()), [expected.to_string()]);
    }

    #[test]
    fn cells_that_differ_in_more_than_values_are_kept_apart_in_order() {
        let cells = vec![
            quote!(first(Caller::Owner);),
            quote!(second(Caller::Owner);),
            quote!(first(Caller::Admin);),
        ];
        let expected = [
            quote!(for caller in [Caller::Owner, Caller::Admin] {
                first(caller);
            }),
            quote!(second(Caller::Owner);),
        ];
        assert_eq!(folded(cells), expected.map(|e| e.to_string()));
    }

    #[test]
    fn a_value_the_table_cannot_hold_leaves_the_cells_as_written() {
        let cells = vec![quote!(send("a\"b");), quote!(send("c");)];
        let written: Vec<String> = cells.iter().map(ToString::to_string).collect();
        assert_eq!(folded(cells), written);
    }
}
