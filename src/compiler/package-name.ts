/**
 * The module name workflow and step code imports Stepwise by (DESIGN.md §1: the npm package
 * `stepwise-workflows`; the name `stepwise` belongs to an unrelated package). The compiler finds
 * `import … from "stepwise-workflows"` in workflow code and emits imports of its subpaths.
 */
export const PACKAGE_NAME = "stepwise-workflows";
