/**
 * Text to token ids and back: the {@link dev.treepo.model.tokenizer.Tokenizer} contract, Hugging
 * Face {@code tokenizer.json} files through DJL, and the tiny model's character vocabulary.
 */
package dev.treepo.model.tokenizer;
