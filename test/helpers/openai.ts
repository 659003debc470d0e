let seq = 0;

/**
 * A chat completion body as the OpenAI API sends it, for the local servers that stand in for it:
 * the assistant's text, or its tool calls (name and arguments, a string sent as is), and the usage.
 */
export function chatCompletion(
  reply: string | [name: string, args: unknown][],
  usage: { prompt: number; completion: number },
  model = "local",
) {
  const message =
    typeof reply === "string"
      ? { role: "assistant", content: reply }
      : {
          role: "assistant",
          content: null,
          tool_calls: reply.map(([name, args]) => ({
            id: `call_${++seq}`,
            type: "function",
            function: { name, arguments: typeof args === "string" ? args : JSON.stringify(args) },
          })),
        };
  return {
    id: `chatcmpl-${++seq}`,
    object: "chat.completion",
    created: 0,
    model,
    choices: [{ index: 0, finish_reason: typeof reply === "string" ? "stop" : "tool_calls", message }],
    usage: {
      prompt_tokens: usage.prompt,
      completion_tokens: usage.completion,
      total_tokens: usage.prompt + usage.completion,
    },
  };
}
