//! Dependency graphs over indices: cycle detection and dependency-ordered waves.

/// A cycle in `edges` (node -> the nodes it depends on), if there is one, as the nodes on it.
pub fn find_cycle(edges: &[Vec<usize>]) -> Option<Vec<usize>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Active,
        Done,
    }
    fn visit(
        n: usize,
        edges: &[Vec<usize>],
        marks: &mut [Mark],
        stack: &mut Vec<usize>,
    ) -> Option<Vec<usize>> {
        marks[n] = Mark::Active;
        stack.push(n);
        for &m in &edges[n] {
            match marks[m] {
                Mark::Active => {
                    let start = stack.iter().position(|&s| s == m).unwrap_or(0);
                    return Some(stack[start..].to_vec());
                }
                Mark::New => {
                    if let Some(cycle) = visit(m, edges, marks, stack) {
                        return Some(cycle);
                    }
                }
                Mark::Done => {}
            }
        }
        stack.pop();
        marks[n] = Mark::Done;
        None
    }
    let mut marks = vec![Mark::New; edges.len()];
    let mut stack = Vec::new();
    (0..edges.len()).find_map(|n| {
        if marks[n] == Mark::New {
            visit(n, edges, &mut marks, &mut stack)
        } else {
            None
        }
    })
}

/// Groups acyclic nodes into waves: every node's dependencies are in earlier waves. Order within
/// a wave follows node order, so plans are stable.
pub fn waves(edges: &[Vec<usize>]) -> Vec<Vec<usize>> {
    let mut depth = vec![None::<usize>; edges.len()];
    fn depth_of(n: usize, edges: &[Vec<usize>], depth: &mut [Option<usize>]) -> usize {
        if let Some(d) = depth[n] {
            return d;
        }
        depth[n] = Some(0); // guards against cycles, which expansion already rejected
        let d = edges[n]
            .iter()
            .map(|&m| depth_of(m, edges, depth) + 1)
            .max()
            .unwrap_or(0);
        depth[n] = Some(d);
        d
    }
    let mut out: Vec<Vec<usize>> = Vec::new();
    for n in 0..edges.len() {
        let d = depth_of(n, edges, &mut depth);
        if out.len() <= d {
            out.resize(d + 1, Vec::new());
        }
        out[d].push(n);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_cycles_and_orders_waves() {
        assert_eq!(find_cycle(&[vec![1], vec![2], vec![]]), None);
        assert_eq!(
            find_cycle(&[vec![1], vec![2], vec![0]]),
            Some(vec![0, 1, 2])
        );
        assert_eq!(find_cycle(&[vec![0]]), Some(vec![0]));
        assert_eq!(
            waves(&[vec![1], vec![], vec![0, 1]]),
            vec![vec![1], vec![0], vec![2]]
        );
    }
}
