//! Names of components and executors, made unique the way the official compiler makes them,
//! and pipelines used as components merged into the pipeline that runs them.
#![allow(clippy::field_reassign_with_default)] // IR structs are filled field by field for clarity

use super::*;

/// The names of one task's component and executor.
#[derive(Debug, Clone, Default)]
pub(super) struct TaskNames {
    pub(super) component: String,
    /// `None` for a nested pipeline (its component is a DAG).
    pub(super) executor: Option<String>,
}

/// What nested pipelines bring into the pipeline: their components and executors (renamed),
/// and their root component, by task.
#[derive(Debug, Default)]
pub(super) struct Merged {
    pub(super) names: Vec<TaskNames>,
    pub(super) components: BTreeMap<String, ComponentSpec>,
    pub(super) executors: BTreeMap<String, ExecutorSpec>,
    pub(super) platform_executors: BTreeMap<String, KubernetesExecutorConfig>,
    pub(super) roots: BTreeMap<usize, ComponentSpec>,
}

/// `name`, or `name-2`, `name-3`, … when taken (`make_name_unique_by_adding_index`).
fn unique(name: &str, taken: impl Fn(&str) -> bool) -> String {
    if !taken(name) {
        return name.to_owned();
    }
    (2..)
        .map(|i| format!("{name}-{i}"))
        .find(|candidate| !taken(candidate))
        .unwrap_or_else(|| name.to_owned())
}

impl Compiler<'_> {
    /// Names every task's component and executor in the order the official compiler does:
    /// groups parent first; in each group its subgroups, then its tasks; a nested pipeline's
    /// executors and components are merged (renamed when taken) before its own component is
    /// named. The merged names are taken in sorted order, each renamed once (the official
    /// compiler takes them in protobuf map order, which varies from run to run, and may
    /// rename a name twice).
    pub(super) fn name_components(&self) -> Result<Merged, DslError> {
        let p = self.p;
        let mut merged = Merged {
            names: vec![TaskNames::default(); p.tasks.len()],
            ..Merged::default()
        };
        let mut executors: BTreeSet<String> = BTreeSet::new();
        let mut components: BTreeSet<String> = BTreeSet::new();
        let mut order = vec![0usize];
        let mut i = 0;
        while i < order.len() {
            let g = order[i];
            i += 1;
            let children: Vec<usize> = (0..p.groups.len())
                .filter(|c| p.groups[*c].parent == Some(g))
                .collect();
            for child in &children {
                components.insert(format!("comp-{}", p.groups[*child].name));
            }
            for (t, node) in p.tasks.iter().enumerate().filter(|(_, n)| n.group == g) {
                if let TaskComponent::Pipeline(inner) = &node.task.component {
                    let root = self.merge_pipeline(
                        inner,
                        &node.name,
                        &mut executors,
                        &mut components,
                        &mut merged,
                    )?;
                    merged.roots.insert(t, root);
                } else {
                    let executor =
                        unique(&format!("exec-{}", node.name), |n| executors.contains(n));
                    executors.insert(executor.clone());
                    merged.names[t].executor = Some(executor);
                }
                let component = unique(&format!("comp-{}", node.name), |n| components.contains(n));
                components.insert(component.clone());
                merged.names[t].component = component;
            }
            // Depth first, parent first: the children come next, in order.
            for (k, child) in children.into_iter().enumerate() {
                order.insert(i + k, child);
            }
        }
        Ok(merged)
    }

    /// Merges the components and executors of `inner` (compiled on its own) and returns its
    /// root component, with references renamed.
    fn merge_pipeline(
        &self,
        inner: &Pipeline,
        task: &str,
        executors: &mut BTreeSet<String>,
        components: &mut BTreeSet<String>,
        merged: &mut Merged,
    ) -> Result<ComponentSpec, DslError> {
        let package = inner
            .compile_package()
            .map_err(|err| DslError::InNestedPipeline {
                task: task.to_owned(),
                error: Box::new(err),
            })?;
        let mut spec = package.pipeline_spec;
        let mut platform = package
            .platform_spec
            .and_then(|mut p| p.kubernetes_mut().deployment_spec.take())
            .map(|d| d.executors)
            .unwrap_or_default();

        // Executors: renamed when the label is taken.
        let mut executor_names: BTreeMap<String, String> = BTreeMap::new();
        let inner_executors = spec
            .deployment_spec
            .take()
            .map(|d| d.executors)
            .unwrap_or_default();
        for (label, executor) in inner_executors {
            let new = unique(&label, |n| executors.contains(n));
            executors.insert(new.clone());
            if let Some(config) = platform.remove(&label) {
                merged.platform_executors.insert(new.clone(), config);
            }
            merged.executors.insert(new.clone(), executor);
            executor_names.insert(label, new);
        }

        // Components: renamed when the name is taken by the outer pipeline or by a name this
        // merge already used.
        let mut component_names: BTreeMap<String, String> = BTreeMap::new();
        for name in spec.components.keys() {
            let new = unique(name, |n| {
                components.contains(n)
                    || component_names.keys().any(|k| k == n)
                    || component_names.values().any(|v| v == n)
            });
            component_names.insert(name.clone(), new);
        }
        let rename_refs = |component: &mut ComponentSpec| {
            if let Some(label) = &component.executor_label
                && let Some(new) = executor_names.get(label)
            {
                component.executor_label = Some(new.clone());
            }
            if let Some(dag) = &mut component.dag {
                for task in dag.tasks.values_mut() {
                    if let Some(reference) = &mut task.component_ref
                        && let Some(name) = &reference.name
                        && let Some(new) = component_names.get(name)
                    {
                        reference.name = Some(new.clone());
                    }
                }
            }
        };
        for (name, mut component) in std::mem::take(&mut spec.components) {
            rename_refs(&mut component);
            let new = component_names.get(&name).cloned().unwrap_or(name);
            components.insert(new.clone());
            merged.components.insert(new, component);
        }
        let mut root = spec.root.take().unwrap_or_default();
        rename_refs(&mut root);
        Ok(root)
    }
}
