// The board page's side of offline editing (outbox.js): changes still waiting are shown on
// the board it loads (from the server or, offline, from the kept copy); a change the server
// refused with 409 opens the task's merge dialog; a task created offline takes its real id;
// once the queue is empty the board catches up from the event log (`since`).

import { toast } from "../toast.js";
import { onOutbox, waitingFor } from "./outbox.js";

export function attachOffline(view) {
  const { state } = view;
  for (const op of waitingFor(view.boardId)) {
    if (op.kind === "delete") state.tasks.delete(op.taskId);
    else if (op.kind === "comment") state.countComment(op.taskId, 1);
    else state.upsertTask(op.result, true);
  }
  view.scheduleRender();
  return onOutbox((event) => {
    if (event.op && event.op.boardId !== view.boardId) return;
    if (event.type === "replaced") {
      state.tasks.delete(event.op.result.id);
      state.upsertTask(event.task, true);
      view.scheduleRender();
    } else if (event.type === "conflict") {
      // Someone changed the task while we were away: the dialog's merge, as for any 409.
      state.upsertTask(event.current, true);
      view.scheduleRender();
      view.dialog.open(event.current.id);
      view.dialog.task = event.op.base || event.current;
      view.dialog.resolve(event.current, event.mine);
    } else if (event.type === "failed") {
      toast(`A change made offline could not be saved: ${event.error.message}`, "error");
    } else if (event.type === "synced") {
      for (const id of [...state.tasks.keys()]) if (id.startsWith("offline-")) state.tasks.delete(id);
      view.scheduleRender();
      // Subscribing again replays the log from the last seq this board applied.
      if (view.leaveLive) {
        view.stopLive();
        view.followLive();
      }
    }
  });
}
