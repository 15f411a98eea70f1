import CYaml

/// Refuses YAML anchors and aliases before the document is composed.
///
/// fleet.yaml never needs them, and they are how a small file becomes a huge one: an alias
/// used as a mapping key makes Yams hash the same subtree again and again (the "billion laughs"
/// shape), which can stall an agent running as root. libyaml's own scanner finds them, with
/// their line, without building anything.
public enum YAMLAnchorCheck {
    /// The line and column (1-based) of the first anchor (`&name`) or alias (`*name`), if any.
    public static func first(in text: String) -> (line: Int, column: Int, isAlias: Bool)? {
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else { return nil }
        defer { yaml_parser_delete(&parser) }
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBufferPointer { buffer -> (Int, Int, Bool)? in
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            var token = yaml_token_t()
            while true {
                guard yaml_parser_scan(&parser, &token) == 1 else { return nil }  // a syntax error: composing reports it
                defer { yaml_token_delete(&token) }
                switch token.type {
                case YAML_STREAM_END_TOKEN:
                    return nil
                case YAML_ANCHOR_TOKEN, YAML_ALIAS_TOKEN:
                    return (Int(token.start_mark.line) + 1, Int(token.start_mark.column) + 1, token.type == YAML_ALIAS_TOKEN)
                default:
                    continue
                }
            }
        }
    }
}
