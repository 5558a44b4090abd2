//! Where a test sits in its user's tree: the package and class Verdict
//! stores for a report case (the Octane identity is component, package,
//! class and name), decided once for every format (docs/formats.md
//! "Package and class").
//!
//! Reports put very different things in their class slot: a Java or Python
//! qualified name (`com.acme.CartTest`, `tests.test_cart.TestCart`), a test
//! file (`vt/cart.test.js` from vitest, a Go import path), a JavaScript suite
//! path (`cart.test.js > Cart` from CTRF reporters), a `describe` title, or
//! the test's own title again (jest-junit, mocha-junit-reporter). Splitting
//! all of them at their last dot, as the collection tool does for Java,
//! turns `cart.test.js > Cart` into package `cart.test`, class `js > Cart`.

/// File extensions that mark a class slot as a test file's path.
const SOURCE_EXTENSIONS: [&str; 16] = [
    ".js", ".mjs", ".cjs", ".jsx", ".ts", ".mts", ".cts", ".tsx", ".py", ".rb", ".go", ".rs",
    ".feature", ".php", ".cs", ".java",
];

/// (package, class) of a case whose class slot is `classname`, whose name is
/// `name`, and whose file (JUnit `file`, CTRF `filePath`) is `file`:
///
/// 1. no class: package = the file (or empty), no class;
/// 2. the class slot repeats the test's title (it equals the name, or the
///    name ends with it): it says nothing more, so as 1;
/// 3. a suite path `a > b > c` whose first part is a file: package = that
///    file, class = the rest;
/// 4. a file path (a `/` or `\` or a source extension such as `.js`, `.py`,
///    or a Go import path): package = that path, no class;
/// 5. a title with spaces (a `describe` block): package = the file (or
///    empty), class = the title;
/// 6. a qualified name: split at its last dot (`com.acme.Cart` → `com.acme`,
///    `Cart`), as the Octane collection tool does; without a dot, package =
///    the file (or empty) and class = the name.
///
/// Both parts are slices of `classname` or `file`: nothing is allocated.
#[must_use]
pub fn package_and_class<'a>(
    classname: Option<&'a str>,
    name: &str,
    file: Option<&'a str>,
) -> (&'a str, &'a str) {
    let file = file.map_or("", str::trim);
    let class = classname.map_or("", str::trim);
    if class.is_empty() || class == name || ends_with_word(name, class) || class == name.trim() {
        return (file, "");
    }
    // A qualified name (the common case): printable ASCII without spaces,
    // slashes or `>`.
    let plain = class
        .bytes()
        .all(|b| b > b' ' && b < 0x7f && !matches!(b, b'/' | b'\\' | b'>'));
    if plain {
        // One backwards scan finds both the extension and the split point.
        let dot = class.rfind('.').filter(|d| *d > 0);
        let is_file = dot.is_some_and(|d| is_source_extension(&class[d..]));
        if !is_file {
            return match dot {
                Some(d) if d + 1 < class.len() => (&class[..d], &class[d + 1..]),
                _ => (file, class),
            };
        }
        return (class, "");
    }
    if let Some((first, rest)) = class.split_once(" > ")
        && is_file_path(first)
    {
        return (first, rest);
    }
    if is_file_path(class) {
        return (class, "");
    }
    (file, class)
}

/// The case's full name as one string, for protocols that name a test by
/// one name under its suite (Test Center): `com.acme.Cart.adds` for a
/// qualified class, else package, class and name joined with ` > `
/// (`cart.test.js > Cart > adds an item`).
#[must_use]
pub fn qualified_name(classname: Option<&str>, name: &str, file: Option<&str>) -> String {
    let (package, class) = package_and_class(classname, name, file);
    let dotted = !package.is_empty()
        && !class.is_empty()
        && classname.map(str::trim) == Some(format!("{package}.{class}").as_str());
    if dotted && !name.starts_with(&format!("{package}.{class}.")) {
        return format!("{package}.{class}.{name}");
    }
    if dotted {
        // xUnit.net names already start with their type.
        return name.to_owned();
    }
    [package, class, name]
        .into_iter()
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(" > ")
}

/// Whether `name` ends with ` ` followed by `word`.
fn ends_with_word(name: &str, word: &str) -> bool {
    name.len() > word.len()
        && name.ends_with(word)
        && name.as_bytes()[name.len() - word.len() - 1] == b' '
}

/// Whether `text` ends with a source file extension such as `.js`
/// (one of [`SOURCE_EXTENSIONS`]).
fn has_source_extension(text: &str) -> bool {
    let Some(dot) = text.rfind('.').filter(|d| *d > 0) else {
        return false;
    };
    is_source_extension(&text[dot..])
}

/// Whether `ext` (with its dot) is one of [`SOURCE_EXTENSIONS`].
fn is_source_extension(ext: &str) -> bool {
    // Extensions are 3 to 8 bytes: most class names' last segment is not.
    (3..=8).contains(&ext.len()) && SOURCE_EXTENSIONS.contains(&ext)
}

/// Whether `text` reads as a path of a test file rather than a type name.
fn is_file_path(text: &str) -> bool {
    if text.contains('/') || text.contains('\\') {
        return true;
    }
    !text.contains(char::is_whitespace) && has_source_extension(text)
}

#[cfg(test)]
mod tests {
    use super::package_and_class;

    fn pc(class: &str, name: &str, file: Option<&str>) -> (String, String) {
        let (p, c) = package_and_class(Some(class), name, file);
        (p.to_owned(), c.to_owned())
    }

    fn pair(p: &str, c: &str) -> (String, String) {
        (p.to_owned(), c.to_owned())
    }

    #[test]
    fn java_and_python_names_split_at_the_last_dot() {
        assert_eq!(
            pc("com.shop.cart.CartTest", "adds", None),
            pair("com.shop.cart", "CartTest")
        );
        assert_eq!(
            pc("tests.test_cart.TestCart", "t", Some("tests/test_cart.py")),
            pair("tests.test_cart", "TestCart")
        );
        assert_eq!(pc("shop::checkout", "t", None), pair("", "shop::checkout"));
    }

    #[test]
    fn javascript_files_and_suite_paths_stay_whole() {
        assert_eq!(
            pc("cart.test.js > Cart", "Cart adds an item", None),
            pair("cart.test.js", "Cart")
        );
        assert_eq!(
            pc("vt/math.test.js", "Math > adds", None),
            pair("vt/math.test.js", "")
        );
        assert_eq!(
            pc("tests/test_cart.py > TestCart", "x", None),
            pair("tests/test_cart.py", "TestCart")
        );
        assert_eq!(
            pc("Cart", "adds an item", Some("tests/cart.test.js")),
            pair("tests/cart.test.js", "Cart")
        );
    }

    #[test]
    fn go_import_paths_are_packages() {
        assert_eq!(
            pc("example.com/shop/shop", "TestFormatPrice/euro", None),
            pair("example.com/shop/shop", "")
        );
    }

    #[test]
    fn a_class_slot_repeating_the_title_is_dropped() {
        // jest-junit: classname == name; mocha-junit-reporter: name = full title.
        assert_eq!(
            pc("Cart adds an item", "Cart adds an item", None),
            pair("", "")
        );
        assert_eq!(pc("adds an item", "Cart adds an item", None), pair("", ""));
        assert_eq!(pc("Cart checkout", "pays", None), pair("", "Cart checkout"));
        assert_eq!(
            package_and_class(None, "t", Some("/src/test/cart.spec.js")),
            ("/src/test/cart.spec.js", "")
        );
        assert_eq!(pc("cart.test.js", "t", None), pair("cart.test.js", ""));
    }
}
