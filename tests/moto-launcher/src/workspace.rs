//! The repository a program runs in, found from its working directory (or named by
//! `ECS_SRV_ROOT`), and the project tools in it.

use std::path::{Path, PathBuf};

use crate::LaunchError;

/// Names the repository root outright; `tests/demo/run.sh` sets it.
pub const ROOT_ENV: &str = "ECS_SRV_ROOT";
/// Names a Python that has moto[server], instead of the venv's.
pub const PYTHON_ENV: &str = "ECS_SRV_PYTHON";

/// Directories climbed at most looking for the workspace: deeper than any checkout.
const MAX_CLIMB: usize = 64;

/// The ecs-srv repository a program runs in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Workspace {
    root: PathBuf,
}

impl Workspace {
    /// `ECS_SRV_ROOT` when set, else the nearest `[workspace]` above the current directory.
    pub fn find() -> Result<Self, LaunchError> {
        let cwd = std::env::current_dir().map_err(|source| LaunchError::Io {
            doing: "reading the current directory".to_owned(),
            source,
        })?;
        Self::resolve(&cwd, std::env::var_os(ROOT_ENV).map(PathBuf::from))
    }

    /// The workspace for a program running in `cwd`, `named` (from `ECS_SRV_ROOT`) winning;
    /// a relative `named` is taken from `cwd`.
    pub fn resolve(cwd: &Path, named: Option<PathBuf>) -> Result<Self, LaunchError> {
        match named.filter(|path| !path.as_os_str().is_empty()) {
            Some(root) => Ok(Workspace {
                root: cwd.join(root),
            }),
            None => Self::above(cwd),
        }
    }

    /// The nearest directory from `start` upwards whose Cargo.toml declares `[workspace]`.
    pub fn above(start: &Path) -> Result<Self, LaunchError> {
        start
            .ancestors()
            .take(MAX_CLIMB)
            .find(|dir| declares_workspace(&dir.join("Cargo.toml")))
            .map(|dir| Workspace {
                root: dir.to_owned(),
            })
            .ok_or_else(|| LaunchError::NoWorkspace {
                from: start.to_owned(),
            })
    }

    /// The repository root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// A program of the project venv, `.venv/bin/NAME` (what `make deps` installs).
    pub fn venv_tool(&self, name: &str) -> PathBuf {
        self.root.join(".venv/bin").join(name)
    }

    /// The Python that runs moto: `ECS_SRV_PYTHON`, else the venv's.
    pub fn python(&self) -> PathBuf {
        std::env::var_os(PYTHON_ENV)
            .map(PathBuf::from)
            .unwrap_or_else(|| self.venv_tool("python"))
    }

    /// The script that runs moto server until its stdin closes.
    pub fn moto_script(&self) -> PathBuf {
        self.root.join("tests/support/moto_server.py")
    }
}

/// Whether `manifest` is a Cargo.toml with a `[workspace]` table.
fn declares_workspace(manifest: &Path) -> bool {
    std::fs::read_to_string(manifest)
        .map(|text| text.lines().any(|line| line.trim() == "[workspace]"))
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A checkout somewhere else than this one: a workspace Cargo.toml, a member below it.
    fn other_checkout() -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("a temporary directory");
        std::fs::write(
            dir.path().join("Cargo.toml"),
            "[workspace]\nmembers = [\"tests/demo\"]\n",
        )
        .expect("writing Cargo.toml");
        let member = dir.path().join("tests/demo/src");
        std::fs::create_dir_all(&member).expect("creating a member");
        std::fs::write(
            dir.path().join("tests/demo/Cargo.toml"),
            "[package]\nname = \"demo\"\n",
        )
        .expect("writing the member's Cargo.toml");
        dir
    }

    #[test]
    fn the_root_is_the_workspace_above_the_working_directory() {
        let checkout = other_checkout();
        let inside = checkout.path().join("tests/demo/src");
        let found = Workspace::resolve(&inside, None).expect("found from inside");
        assert_eq!(found.root(), checkout.path());
        assert_eq!(
            found.venv_tool("cargo-lambda"),
            checkout.path().join(".venv/bin/cargo-lambda"),
            "the tools of the checkout it runs in, not of the one it was built in"
        );
        assert_eq!(
            found.moto_script(),
            checkout.path().join("tests/support/moto_server.py")
        );
    }

    #[test]
    fn ecs_srv_root_names_the_root_outright() {
        let checkout = other_checkout();
        let elsewhere = tempfile::tempdir().expect("a temporary directory");
        let named =
            Workspace::resolve(elsewhere.path(), Some(checkout.path().to_owned())).expect("named");
        assert_eq!(named.root(), checkout.path());
        let relative = Workspace::resolve(checkout.path(), Some(PathBuf::from("tests")))
            .expect("relative to the working directory");
        assert_eq!(relative.root(), checkout.path().join("tests"));
    }

    #[test]
    fn outside_any_workspace_the_search_fails_and_says_how_to_fix_it() {
        let nowhere = tempfile::tempdir().expect("a temporary directory");
        let error = Workspace::resolve(nowhere.path(), None).expect_err("no workspace");
        assert!(error.to_string().contains(ROOT_ENV), "{error}");
    }
}
