import { createSignal } from "solid-js";

/**
 * Bumped when an admin adds, changes or deletes an action, so a form that offers the actions (a
 * metric's, in a source's settings) asks for them again. Starts at 1: a resource keyed on it loads.
 */
export const [actionsVersion, setActionsVersion] = createSignal(1);
