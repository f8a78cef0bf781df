//! The library: every scenario and theme, loaded and validated, from the
//! folders embedded in the binary or from folders on disk. A broken file
//! never stops the others: the library keeps what is valid, and the list of
//! problems.

use crate::diagnostic::Diagnostic;
use crate::files::{FileSet, SourceFile};
use crate::scenario::Scenario;
use crate::scenario::build::{self, GroupDef, World};
use crate::scenario::file::{GroupFile, ScenarioFile};
use crate::theme::ThemeSet;
use crate::walkthrough;
use crate::yaml;
use std::collections::BTreeMap;
use std::sync::{Arc, LazyLock};

/// The bundled scenarios and themes, embedded at build time.
pub(crate) static EMBEDDED_SCENARIOS: include_dir::Dir<'static> = include_dir::include_dir!("$CARGO_MANIFEST_DIR/scenarios");
pub(crate) static EMBEDDED_THEMES: include_dir::Dir<'static> = include_dir::include_dir!("$CARGO_MANIFEST_DIR/themes");

/// The schema scenario files are checked against.
pub(crate) static SCENARIO_SCHEMA: LazyLock<serde_json::Value> = LazyLock::new(yaml::shape::schema_of::<ScenarioFile>);
/// The schema step group files are checked against.
pub(crate) static GROUP_SCHEMA: LazyLock<serde_json::Value> = LazyLock::new(yaml::shape::schema_of::<GroupFile>);

/// Step group files end so; other `.yaml` files are scenarios.
pub const GROUP_SUFFIX: &str = ".group.yaml";

#[derive(Clone, Debug, Default)]
/// Every scenario, group and theme loaded, with what was wrong.
pub struct Library {
    /// Valid scenarios by id, in id order.
    pub scenarios: BTreeMap<String, Arc<Scenario>>,
    /// The themes loaded.
    pub themes: ThemeSet,
    /// Step group ids that loaded.
    pub groups: Vec<String>,
    /// Every problem found, sorted by file and position.
    pub diagnostics: Vec<Diagnostic>,
    /// The text of every file read, by display name: to print the source
    /// line under a diagnostic.
    pub sources: BTreeMap<String, String>,
    /// Scenario and group files read.
    pub files_read: usize,
    /// Walkthroughs run, and how many passed.
    pub walkthroughs_run: usize,
    /// Walkthroughs that passed.
    pub walkthroughs_passed: usize,
    /// Scenarios served in their last good version: their file broke since.
    pub kept: Vec<String>,
}

impl Library {
    /// The bundled scenarios on the bundled themes.
    pub fn embedded() -> Library {
        Library::load(&embedded_scenarios(), &embedded_themes())
    }

    /// Loads and validates everything, running every walkthrough.
    pub fn load(scenario_files: &FileSet, theme_files: &FileSet) -> Library {
        let mut lib = Library::default();
        let (themes, theme_problems) = ThemeSet::load(theme_files);
        lib.themes = themes;
        lib.diagnostics.extend(theme_problems);
        for f in &theme_files.files {
            if f.path.ends_with(".yaml")
                && let Ok(text) = f.text()
            {
                lib.sources.insert(f.display.clone(), text.to_owned());
            }
        }

        let yaml_files: Vec<&SourceFile> =
            scenario_files.files.iter().filter(|f| f.path.ends_with(".yaml") || f.path.ends_with(".yml")).collect();
        lib.files_read = yaml_files.iter().filter(|f| !is_bundled_extra(f)).count();
        for f in &yaml_files {
            if let Ok(text) = f.text() {
                lib.sources.insert(f.display.clone(), text.to_owned());
            }
        }

        // Groups first: scenarios include them.
        let mut groups: BTreeMap<String, GroupDef> = BTreeMap::new();
        for f in yaml_files.iter().filter(|f| f.path.ends_with(GROUP_SUFFIX)) {
            let id = f.path.trim_end_matches(GROUP_SUFFIX).to_owned();
            match f.text().map_err(|d| vec![d]).and_then(|t| yaml::read_checked::<GroupFile>(&f.display, t, &GROUP_SCHEMA)) {
                Ok(parsed) => {
                    let fingerprint = fingerprint(&f.bytes);
                    groups.insert(id.clone(), GroupDef { id, file: f.display.clone(), fingerprint, parsed });
                }
                Err(d) => lib.diagnostics.extend(d),
            }
        }
        let world = World { themes: &lib.themes, groups: &groups, sources: &lib.sources };

        let scenario_files: Vec<&&SourceFile> = yaml_files.iter().filter(|f| !f.path.ends_with(GROUP_SUFFIX)).collect();
        // A scenario (if valid), its diagnostics, the files it read, its step count.
        type Built = (Option<Scenario>, Vec<Diagnostic>, Vec<String>, usize);
        let results: Vec<Built> = parallel_map(&scenario_files, |f| {
            guarded(&f.display, || load_scenario(f, &world)).unwrap_or_else(|d| (None, vec![d], vec![], 0))
        });
        // One file, read, built and its walkthroughs run.
        fn load_scenario(f: &SourceFile, world: &World) -> Built {
            let id = f.path.trim_end_matches(".yaml").trim_end_matches(".yml").to_owned();
            let text = match f.text() {
                Ok(t) => t,
                Err(d) => return (None, vec![d], vec![], 0),
            };
            let parsed = match yaml::read_checked::<ScenarioFile>(&f.display, text, &SCENARIO_SCHEMA) {
                Ok(p) => p,
                Err(d) => return (None, d, vec![], 0),
            };
            let includes = parsed.includes.iter().map(|i| i.group.value.clone()).collect();
            let (scenario, mut problems) = build::build(&id, &f.display, text, &parsed, world);
            let Some(scenario) = scenario else { return (None, problems, includes, 0) };
            let failures = walkthrough::run_all(&scenario);
            let failed = failures.len();
            problems.extend(failures);
            (Some(scenario), problems, includes, failed)
        }

        let mut used_groups = std::collections::BTreeSet::new();
        for (scenario, problems, includes, failed) in results {
            used_groups.extend(includes);
            if let Some(s) = &scenario {
                lib.walkthroughs_run += s.tests.len();
                lib.walkthroughs_passed += s.tests.len() - failed;
            }
            let broken = problems.iter().any(Diagnostic::is_error);
            lib.diagnostics.extend(problems);
            if let Some(s) = scenario.filter(|_| !broken) {
                lib.scenarios.insert(s.id.clone(), Arc::new(s));
            }
        }
        groups.retain(|id, g| used_groups.contains(id) || !g.file.starts_with(BUNDLED_GROUPS));
        let world = World { themes: &lib.themes, groups: &groups, sources: &lib.sources };
        for group in groups.values() {
            if !used_groups.contains(&group.id) {
                lib.diagnostics.extend(guarded(&group.file, || build::check_unused_group(group, &world)).unwrap_or_else(|d| vec![d]));
            }
        }
        lib.groups = groups.keys().cloned().collect();
        lib.diagnostics.sort_by(|a, b| (&a.file, a.pos, &a.message).cmp(&(&b.file, b.pos, &b.message)));
        lib.diagnostics.dedup();
        lib
    }

    /// After a reload: a scenario or theme whose files now have errors
    /// stays live in its last good version from `old`; one whose files
    /// disappeared goes. The new diagnostics stay, for the author page.
    pub fn keep_last_good(mut self, old: &Library) -> Library {
        let broken: std::collections::BTreeSet<&str> = self.diagnostics.iter().filter(|d| d.is_error()).map(|d| d.file.as_str()).collect();
        for name in old.themes.names() {
            let theme_file = old.sources.keys().find(|f| f.ends_with(&format!("{name}/theme.yaml")));
            let theme_broke = broken.iter().any(|f| f.contains(&format!("/{name}/")) || theme_file.is_some_and(|t| t == f));
            if !self.themes.has(name)
                && theme_broke
                && let Some(theme) = old.themes.get(name)
            {
                self.themes.insert(theme.clone());
            }
        }
        for (id, scenario) in &old.scenarios {
            if self.scenarios.contains_key(id) {
                continue;
            }
            let mut files: Vec<&str> = scenario.steps.iter().map(|s| s.origin.file.as_str()).collect();
            files.push(&scenario.file);
            if files.iter().any(|f| broken.contains(f)) {
                self.scenarios.insert(id.clone(), scenario.clone());
                self.kept.push(id.clone());
            }
        }
        self
    }

    /// The scenario with this id.
    pub fn get(&self, id: &str) -> Option<&Arc<Scenario>> {
        self.scenarios.get(id)
    }

    /// How many diagnostics are errors.
    pub fn error_count(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.is_error()).count()
    }

    /// Files with at least one error.
    pub fn broken_files(&self) -> Vec<&str> {
        let mut files: Vec<&str> = self.diagnostics.iter().filter(|d| d.is_error()).map(|d| d.file.as_str()).collect();
        files.dedup();
        files
    }

    /// Every diagnostic, with its source line and hint.
    pub fn render_diagnostics(&self) -> String {
        self.diagnostics.iter().map(|d| d.render(self.sources.get(&d.file).map(String::as_str))).collect::<Vec<_>>().join("\n")
    }

    /// Scenarios grouped by operator, in catalogue order.
    pub fn by_operator(&self) -> BTreeMap<&str, Vec<&Arc<Scenario>>> {
        let mut out: BTreeMap<&str, Vec<&Arc<Scenario>>> = BTreeMap::new();
        for s in self.scenarios.values() {
            out.entry(s.operator.as_str()).or_default().push(s);
        }
        out
    }
}

/// The scenarios and step groups built into the binary.
pub fn embedded_scenarios() -> FileSet {
    FileSet::from_embedded(&EMBEDDED_SCENARIOS, "scenarios")
}

/// The themes built into the binary.
pub fn embedded_themes() -> FileSet {
    FileSet::from_embedded(&EMBEDDED_THEMES, "themes")
}

/// How the bundled step groups are named when they come with a folder of
/// the author's own: apart from the folder's files, and not counted as read
/// or checked unless a scenario includes them.
pub(crate) const BUNDLED_GROUPS: &str = "(bundled)";

/// The bundled step groups, named under [`BUNDLED_GROUPS`].
pub(crate) fn bundled_groups() -> FileSet {
    let mut set = FileSet::from_embedded(&EMBEDDED_SCENARIOS, BUNDLED_GROUPS);
    set.files.retain(|f| f.path.ends_with(GROUP_SUFFIX));
    set
}

/// The scenarios of `dir`, with the bundled step groups beside them: a
/// folder may include `franceconnect/connexion` without copying it, and a
/// group of its own with the same path replaces the bundled one.
pub fn scenarios_over(dir: &std::path::Path) -> std::io::Result<FileSet> {
    let mut set = FileSet::from_dir(dir, dir.display().to_string().trim_end_matches('/'))?;
    let own: std::collections::BTreeSet<String> = set.files.iter().map(|f| f.path.clone()).collect();
    set.files.extend(bundled_groups().files.into_iter().filter(|f| !own.contains(&f.path)));
    set.files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(set)
}

/// One scenario file (`path` is `<operator>/<name>.yaml`) with the bundled
/// step groups, which it may include: what `miroir check FILE` loads.
pub fn with_bundled_groups(path: &str, display: &str, bytes: Vec<u8>) -> FileSet {
    let mut set = bundled_groups();
    set.files.retain(|f| f.path != path);
    set.files.push(SourceFile { path: path.to_owned(), display: display.to_owned(), bytes: std::borrow::Cow::Owned(bytes) });
    set
}

/// The bundled themes with the themes of `dir` over them: a folder adds
/// themes (which may extend the bundled ones) and replaces bundled files
/// of the same path.
pub fn themes_over(dir: &std::path::Path) -> std::io::Result<FileSet> {
    Ok(embedded_themes().overlaid(FileSet::from_dir(dir, &dir.display().to_string())?))
}

/// A bundled step group that came with a folder of the author's own.
fn is_bundled_extra(f: &SourceFile) -> bool {
    f.display.starts_with(BUNDLED_GROUPS)
}

/// Runs `f` for `file`, turning a panic into an error on that file: one
/// file must never take down `serve` or `check`. A panic is a bug in
/// miroir all the same; the fuzz test counts these diagnostics as failures.
fn guarded<R>(file: &str, f: impl FnOnce() -> R) -> Result<R, Diagnostic> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).map_err(|panic| {
        let why =
            panic.downcast_ref::<&str>().map(|s| (*s).to_owned()).or_else(|| panic.downcast_ref::<String>().cloned()).unwrap_or_default();
        Diagnostic::error(file, crate::diagnostic::Pos::UNKNOWN, format!("{INTERNAL_ERROR}: {why}"))
            .with_hint("please report it, with the file; the other files are served")
    })
}

/// How a diagnostic made from a panic starts.
pub const INTERNAL_ERROR: &str = "internal error while checking this file (a bug in miroir)";

fn fingerprint(bytes: &[u8]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::hash::DefaultHasher::new();
    bytes.hash(&mut h);
    h.finish()
}

/// Maps `f` over `items` on every core, keeping the order. Items are
/// handed out one at a time (files differ in size: no core waits for
/// another's last batch), and the workers read YAML on their own big
/// stacks.
fn parallel_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync + Send) -> Vec<R> {
    use rayon::prelude::*;
    static POOL: std::sync::LazyLock<Option<rayon::ThreadPool>> = std::sync::LazyLock::new(|| {
        rayon::ThreadPoolBuilder::new()
            .thread_name(|i| format!("miroir-load-{i}"))
            .stack_size(crate::yaml::READER_STACK)
            .start_handler(|_| crate::yaml::on_reader_stack())
            .build()
            .ok()
    });
    match POOL.as_ref() {
        Some(pool) if items.len() > 1 => pool.install(|| items.par_iter().with_max_len(1).map(&f).collect()),
        _ => items.iter().map(&f).collect(),
    }
}
